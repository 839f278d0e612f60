import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, manifest } from '../helpers/daemon.js';
import { LeafDevice, deployOnIotHubPorts, savedTwins, stopLeavesAndDaemon } from '../helpers/leaf-device.js';
import type { SdkTransport } from '../helpers/sdk-deployment.js';
import { holdTestLock } from '../helpers/test-lock.js';

/*
 * IoT Edge's limits, met by leaf devices written with the SDK: MaxConnectedClients (here 3, edgeHub
 * included, so two clients) refuses a third identity on every protocol while the others keep
 * working, lets a connected identity reconnect, and admits a new one once a place frees; a twin's
 * reported properties may not grow past 32 KB, nor its desired properties.
 */

describe('the hub keeps IoT Edge limits: connected clients and twin size', () => {
  const daemon = new TestDaemon({}, [], 'localhost');
  const leaves: LeafDevice[] = [];
  let releasePorts: (() => Promise<void>) | undefined;
  let ca: string;
  const keys = new Map<string, string>();

  const twins = () => savedTwins(daemon);
  /** The key of leaf device `id`, registered the first time. */
  const register = (id: string): string => {
    if (!keys.has(id)) {
      const added = daemon.cli(['identity', 'add', id, '--json']);
      assert.equal(added.code, 0, added.stderr);
      keys.set(id, (JSON.parse(added.stdout) as { primaryKey: string }).primaryKey);
    }
    return keys.get(id)!;
  };
  const leaf = (
    id: string,
    transport: SdkTransport,
    options: { twin?: boolean; everyMs?: number; env?: Record<string, string> } = {},
  ) => {
    const cs = `HostName=hub.example.net;DeviceId=${id};SharedAccessKey=${register(id)};GatewayHostName=localhost`;
    const device = new LeafDevice(
      cs,
      ca,
      0,
      undefined,
      transport,
      options.twin,
      options.everyMs,
      options.env,
    );
    leaves.push(device);
    return device;
  };

  before(async () => {
    releasePorts = await holdTestLock('iothub-ports');
    await daemon.start();
    ca = path.join(daemon.homedir, 'hsm', 'certs', 'edge_owner_ca.cert.pem');
    await deployOnIotHubPorts(daemon, { MaxConnectedClients: '3' });
  });
  after(async () => {
    await stopLeavesAndDaemon(leaves, daemon);
    await releasePorts?.();
  });

  test('an invalid MaxConnectedClients refuses the deployment with an error naming it', async () => {
    const document = manifest({});
    (
      document.modulesContent.$edgeAgent['properties.desired'] as {
        systemModules: { edgeHub: { env?: unknown } };
      }
    ).systemModules.edgeHub.env = { MaxConnectedClients: { value: 'many' } };
    const refused = await daemon.request('POST', '/deployment', document);
    const status = JSON.parse(refused.body) as { lastDesiredStatus: { code: number; description: string } };
    assert.equal(status.lastDesiredStatus.code, 400, refused.body);
    assert.match(
      status.lastDesiredStatus.description,
      /systemModules\.edgeHub\.env\.MaxConnectedClients\.value: "many" is not a whole number/,
    );
  });

  test('MaxConnectedClients 3: a third identity is refused on every protocol, the others go on', async () => {
    const a = leaf('limit-a', 'mqtt', { everyMs: 100 });
    const b = leaf('limit-b', 'amqp');
    await a.said('connected');
    await b.said('connected');

    for (const transport of ['mqtt', 'amqp', 'mqttws', 'amqpws'] as const) {
      const refused = leaf('limit-c', transport, { env: { LEAF_NO_RETRY: '1' } });
      assert.equal(await refused.exited, 1, refused.output);
      assert.match(refused.output, /^open failed: /m);
    }
    const refusal =
      'the Edge Hub already has the maximum allowed clients \\(2\\) connected \\(MaxConnectedClients 3';
    assert.match(daemon.output, new RegExp(`hub: mqtt: refused limit-c: ${refusal}`));
    assert.match(daemon.output, new RegExp(`hub: amqp: amqp-\\d+: put-token refused: ${refusal}`));

    // the clients admitted go on: a keeps sending, b reconnects (its new connection replaces the old)
    const acked = a.lastAcked();
    await eventually(async () => (a.lastAcked() > acked + 2 ? true : undefined), 'limit-a to go on sending');
    const again = leaf('limit-b', 'mqtt', { env: { LEAF_NO_RETRY: '1' } });
    await again.said('connected');

    // a place frees when a client leaves: the refused identity gets in (over MQTT the SDK retries a
    // "server unavailable" refusal; over AMQP it takes the refused put-token as final)
    await a.stop();
    const later = leaf('limit-c', 'mqtt');
    await later.said('connected', 60_000);
    await Promise.all([b.stop(), again.stop(), later.stop()]);
  });

  for (const transport of ['mqtt', 'amqp'] as const) {
    test(`${transport}: a reported patch growing the twin past 32 KB fails in the SDK, the twin unchanged`, async () => {
      const id = `limit-twin-${transport}`;
      const device = leaf(id, transport, { twin: true, env: { LEAF_REPORT_SIZES: '20000,20000' } });
      await device.said('report 0 ok');
      const failed = await device.said(/^report 1 failed: .*$/m);
      assert.match(
        failed,
        /^report 1 failed: \w+: .*Twin reported properties size \d+ would exceed the maximum of 32768 bytes/m,
      );
      const reported = twins()[id]?.reported ?? {};
      assert.equal(reported.ready, true);
      assert.equal(JSON.stringify(reported.big0).length > 20000, true);
      assert.equal(reported.big1, undefined);
      await device.stop();
    });
  }

  test('desired properties over 32 KB are refused: the service-side twin update and a deployment', async () => {
    register('limit-desired');
    const patch = (desired: unknown) =>
      daemon.request('PATCH', '/devices/limit-desired/twin', { properties: { desired } });
    const text = (bytes: number) =>
      Object.fromEntries(Array.from({ length: bytes / 4000 }, (_, index) => [`c${index}`, 'x'.repeat(4000)]));
    const ok = await patch({ a: text(20000) });
    assert.equal(ok.status, 200, ok.body);
    const refused = await patch({ b: text(20000) });
    assert.equal(refused.status, 400, refused.body);
    assert.match(
      refused.body,
      /properties\.desired: Twin desired properties size \d+ would exceed the maximum of 32768 bytes/,
    );
    assert.equal(twins()['limit-desired']?.desired.b, undefined);

    const document: { modulesContent: Record<string, unknown> } = manifest({});
    document.modulesContent.big = { 'properties.desired': { blob: text(40000) } };
    const deployed = await daemon.request('POST', '/deployment', document);
    assert.match(
      deployed.body,
      /"code":400,"description":"big\.properties\.desired: Twin desired properties size \d+ would exceed/,
    );
  });
});
