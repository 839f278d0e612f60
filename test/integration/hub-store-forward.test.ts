import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, hubPorts, manifest, nodeModule } from '../helpers/daemon.js';
import {
  DEVICE_ID,
  ModuleCredentials,
  closed,
  connect,
  hubEndpoint,
  type HubEndpoint,
  type MqttClient,
} from '../helpers/mqtt-client.js';

const HOSTNAME = 'localhost';
const INPUT = `${DEVICE_ID}/receiver/inputs/in1`;
const EVENTS = `devices/${DEVICE_ID}/modules/sender/messages/events/`;

/** sender → receiver's in1, both sleeping process modules whose identities the test connects as. */
function deployment(storeLimits?: Record<string, unknown>) {
  const document = manifest({
    receiver: nodeModule('sleeper.js', ['600000']),
    sender: nodeModule('sleeper.js', ['600000']),
  });
  const edgeHub = document.modulesContent.$edgeAgent['properties.desired'].systemModules.edgeHub;
  edgeHub.settings.createOptions = hubPorts(0, 0, 0);
  const desired = document.modulesContent.$edgeHub['properties.desired'] as Record<string, unknown>;
  desired.routes = {
    toReceiver: `FROM /messages/modules/sender/* INTO BrokeredEndpoint("/modules/receiver/inputs/in1")`,
  };
  desired.storeAndForwardConfiguration = { timeToLiveSecs: 7200, ...(storeLimits ? { storeLimits } : {}) };
  return document;
}

/** Publishes QoS 1; resolves true on PUBACK, false when the connection ended first. */
function publish(client: MqttClient, payload: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve(false);
    client.publish(EVENTS, payload, { qos: 1 }, (error) => resolve(!error));
  });
}

interface Queue {
  endpoint: string;
  messages: number;
  bytes: number;
  oldestMessageAgeSeconds: number | null;
  duplicates: number;
}

describe('store and forward: messages acknowledged to their sender survive a SIGKILL of iotedged', () => {
  const daemon = new TestDaemon({}, [], HOSTNAME);
  const credentials = new ModuleCredentials(daemon, HOSTNAME);
  const clients: MqttClient[] = [];
  let hub: HubEndpoint;

  const queue = (): Queue | undefined => {
    const status = daemon.cli(['system', 'status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    return (JSON.parse(status.stdout) as { queues?: Queue[] }).queues?.find((q) => q.endpoint === INPUT);
  };

  /** The hub's Prometheus metrics (the deployment binds the metrics port). */
  const scrape = async (): Promise<string> => {
    const status = await daemon.json<{ systemModules: { edgeHub: { statusDescription: string } } }>(
      'GET',
      '/deployment/status',
    );
    const port = /metrics on 127\.0\.0\.1:(\d+)/.exec(status.systemModules.edgeHub.statusDescription)?.[1];
    assert.ok(port, status.systemModules.edgeHub.statusDescription);
    return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  };

  before(async () => {
    await daemon.start();
    // one module first: the agent's identity store loses generation ids of modules created at once
    const first = await daemon.request(
      'POST',
      '/deployment',
      manifest({ receiver: nodeModule('sleeper.js', ['600000']) }),
    );
    assert.equal(first.status, 200, first.body);
    await hubEndpoint(daemon, ['receiver'], HOSTNAME);
    const result = await daemon.request('POST', '/deployment', deployment());
    assert.equal(result.status, 200, result.body);
    hub = await hubEndpoint(daemon, ['receiver', 'sender'], HOSTNAME);
  });

  after(async () => {
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    for (const client of clients) client.end(true);
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await daemon.cleanup();
  });

  test('the receiver, away while iotedged was killed mid-stream, gets every message its sender had a PUBACK for', async () => {
    const sender = await connect(hub, credentials.connectFields('sender'));
    clients.push(sender);
    const acknowledged = new Set<string>();
    let sent = 0;
    // eight publishers in flight, until the daemon dies under them
    const publishing = Array.from({ length: 8 }, async () => {
      for (;;) {
        const payload = `m-${sent++}`;
        if (!(await publish(sender, payload))) return;
        acknowledged.add(payload);
      }
    });
    await eventually(async () => (acknowledged.size >= 300 ? true : undefined), '300 PUBACKs');
    const held = queue();
    assert.ok(
      held && held.messages >= 300,
      `system status shows the receiver's queue: ${JSON.stringify(held)}`,
    );
    assert.ok(held.bytes > 300 * 3 && held.oldestMessageAgeSeconds !== null);
    const metrics = await scrape();
    const sample = (name: string) =>
      Number(
        metrics
          .split('\n')
          .find((line) => line.startsWith(`${name}{`) && line.includes(`endpoint="${INPUT}"`))
          ?.split(' ')
          .pop(),
      );
    assert.ok(sample('edgehub_queue_length') >= 300, metrics);
    assert.ok(sample('edgehub_queue_size_bytes') > 300 * 3, metrics);
    assert.ok(sample('edgehub_queue_oldest_message_age_seconds') >= 0, metrics);
    await daemon.signal('SIGKILL');
    await Promise.all(publishing);
    await closed(sender);

    await daemon.start();
    hub = await hubEndpoint(daemon, ['receiver', 'sender'], HOSTNAME);
    const restored = await eventually(async () => queue(), 'the restored queue in system status');
    assert.ok(
      restored.messages >= acknowledged.size,
      `${restored.messages} held of ${acknowledged.size} acknowledged`,
    );

    const receiver = await connect(hub, credentials.connectFields('receiver'));
    clients.push(receiver);
    const received = new Set<string>();
    receiver.on('message', (_topic, payload) => received.add(payload.toString()));
    await new Promise<void>((resolve, reject) =>
      receiver.subscribe(`devices/${DEVICE_ID}/modules/receiver/inputs/#`, { qos: 1 }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    await eventually(
      async () => ([...acknowledged].every((payload) => received.has(payload)) ? true : undefined),
      `the ${acknowledged.size} acknowledged messages at the receiver`,
    );
    const missing = [...acknowledged].filter((payload) => !received.has(payload));
    assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.size} acknowledged messages lost`);
    await eventually(async () => (queue()?.messages === 0 ? true : undefined), 'the queue to drain');
  });

  test('at maxSizeBytes with the "refuse" policy the sender gets no PUBACK and its connection ends', async () => {
    const bad = await daemon.request(
      'POST',
      '/deployment',
      deployment({ maxSizeBytes: 2000, fullPolicy: 'sometimes' }),
    );
    assert.equal(bad.status, 400, bad.body);
    assert.match(
      bad.body,
      /storeAndForwardConfiguration\.storeLimits\.fullPolicy: unknown value \\?"sometimes\\?", expected one of refuse, dropOldest/,
    );
    const receiver = clients.at(-1)!;
    receiver.end(true);
    await closed(receiver);
    const result = await daemon.request(
      'POST',
      '/deployment',
      deployment({ maxSizeBytes: 2000, fullPolicy: 'refuse' }),
    );
    assert.equal(result.status, 200, result.body);
    const sender = await connect(hub, credentials.connectFields('sender'));
    clients.push(sender);
    let acknowledged = 0;
    for (let n = 0; n < 100; n++) {
      if (!(await publish(sender, 'x'.repeat(100)))) break;
      acknowledged++;
    }
    await closed(sender);
    assert.ok(
      acknowledged > 0 && acknowledged < 100,
      `${acknowledged} publishes acknowledged before the store was full`,
    );
    const held = queue()!;
    assert.equal(held.messages, acknowledged, 'the store holds exactly the acknowledged messages');
    assert.ok(held.bytes <= 2000, `${held.bytes} bytes held`);
    assert.match(daemon.output, /the message store is full/);
  });
});
