import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { buildSasToken } from '../../src/runtime/identity/sas.js';
import { TestDaemon, eventually, nodeModule } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import { connect, end, mqttAddress, type HubEndpoint, type MqttClient } from '../helpers/mqtt-client.js';
import {
  childDaemon,
  cleanupDaemons,
  expectLeafReachedFromParent,
  nestedDeployment as deployment,
  rootCaOf,
  upstreamOf,
} from '../helpers/nested.js';

/** Leaf devices below the child, each its own identity upstream. */
const LEAVES = 50;
/** Messages each leaf device sends before the parent is killed, and as many after. */
const PER_LEAF = 40;
/** Messages the child's SDK module sends through `$upstream`. */
const MODULE_COUNT = 500;
/** Lifetime of the child's upstream tokens: several renewals happen during the tests. */
const TOKEN_SECONDS = 6;

const leafId = (index: number) => `leaf-${String(index).padStart(2, '0')}`;
const leafKey = (index: number) => Buffer.alloc(32, index + 1).toString('base64');

/** The records the parent's recorder module wrote: `seq messageId body`, in arrival order. */
function recorded(file: string): { seq: number; body: string }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [seq, , ...body] = line.split(' ');
      return { seq: Number(seq), body: body.join(' ') };
    });
}

/** Local and remote ports of the established TCP sockets of process `pid` (from /proc). */
function tcpConnectionsOf(pid: number): { local: number; remote: number }[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed while being read
    }
  }
  const connections: { local: number; remote: number }[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      const [, local, remote, state, , , , , , inode] = fields;
      // 01: ESTABLISHED
      if (state !== '01' || !inodes.has(inode!)) continue;
      connections.push({
        local: parseInt(local!.split(':')[1]!, 16),
        remote: parseInt(remote!.split(':')[1]!, 16),
      });
    }
  }
  return connections;
}

/** A twin in the parent's twins file (`<homedir>/hub/twins.json`), as its hub saved it. */
function parentTwin(
  parent: TestDaemon,
  id: string,
): { desired: Record<string, unknown>; reported: Record<string, unknown> } | undefined {
  const file = path.join(parent.homedir, 'hub/twins.json');
  if (!existsSync(file)) return undefined;
  const saved = JSON.parse(readFileSync(file, 'utf8')) as {
    twins: Record<string, { desired: Record<string, unknown>; reported: Record<string, unknown> }>;
  };
  return saved.twins[id];
}

/** Checks that each leaf's messages `from..to-1` arrived, each sender's first arrivals in order. */
function assertAllInOrder(records: { seq: number; body: string }[], to: number): void {
  const firsts = new Map<string, number[]>();
  const seen = new Set<string>();
  for (const { body } of records) {
    if (seen.has(body)) continue;
    seen.add(body);
    const [device, seq] = body.split(':');
    let list = firsts.get(device!);
    if (!list) firsts.set(device!, (list = []));
    list.push(Number(seq));
  }
  for (let index = 0; index < LEAVES; index += 1) {
    const list = firsts.get(leafId(index)) ?? [];
    assert.deepEqual(
      list,
      Array.from({ length: to }, (_, seq) => seq),
      `${leafId(index)}: every message once, in order`,
    );
  }
}

describe('nested edge over AMQP: a child multiplexes every identity on one connection to its parent', () => {
  const parent = new TestDaemon({}, [], 'localhost');
  let child: TestDaemon | undefined;
  const records = path.join(parent.dir, 'received.txt');
  const ports = { mqtt: 0, https: 0, amqp: 0 };
  let childMqtt = 0;
  const leaves: MqttClient[] = [];
  let childEndpoint: HubEndpoint;
  const parentDeployment = (withAmqp = true) =>
    deployment(
      { recorder: nodeModule('upstream-recorder.js', [records]) },
      { fromChild: `FROM /messages/* INTO BrokeredEndpoint("/modules/recorder/inputs/in1")` },
      withAmqp ? ports : { mqtt: ports.mqtt, https: ports.https },
    );
  const childDeployment = (protocol: string, modules: Record<string, Record<string, unknown>> = {}) =>
    deployment(
      modules,
      {
        leaves: 'FROM /messages WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream',
        modules: 'FROM /messages/modules/sender/* INTO $upstream',
      },
      { mqtt: childMqtt, https: 0 },
      protocol,
    );
  const deploy = async (daemon: TestDaemon, document: unknown) => {
    const posted = await daemon.request('POST', '/deployment', document);
    assert.equal(posted.status, 200, posted.body);
  };
  /** Sends messages `from..to-1` from every leaf at once (QoS 1: each acknowledged by the child). */
  const sendFromLeaves = (from: number, to: number) =>
    Promise.all(
      leaves.map(async (client, index) => {
        for (let seq = from; seq < to; seq += 1) {
          await new Promise<void>((resolve, reject) =>
            client.publish(
              `devices/${leafId(index)}/messages/events/seq=${seq}`,
              `${leafId(index)}:${seq}`,
              { qos: 1 },
              (error?: Error) => (error ? reject(error) : resolve()),
            ),
          );
        }
      }),
    );
  /** The child's TCP connections to any port of its parent's hub. */
  const toParent = () =>
    tcpConnectionsOf(child!.process!.pid!).filter((connection) =>
      [ports.mqtt, ports.amqp, ports.https].includes(connection.remote),
    );

  before(async () => {
    [ports.mqtt, ports.https, ports.amqp, childMqtt] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    await parent.start();
    await deploy(parent, parentDeployment());
    const added = parent.cli(['identity', 'add', 'child-1', '--edge', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const created = JSON.parse(added.stdout) as { connectionString: string };
    for (let index = 0; index < LEAVES; index += 1) {
      const device = {
        deviceId: leafId(index),
        parentId: 'child-1',
        authentication: { type: 'sas', primaryKey: leafKey(index) },
      };
      const onParent = await parent.request('POST', '/devices', device);
      assert.equal(onParent.status, 201, onParent.body);
    }
    const started = childDaemon(parent, ports.mqtt, created.connectionString);
    child = started;
    started.env.IOTEDGE_PARENT_HTTPS_PORT = String(ports.https);
    started.env.IOTEDGE_PARENT_AMQP_PORT = String(ports.amqp);
    // tokens of 6 s: each identity puts a new one every 4.5 s on the same connection
    started.env.IOTEDGE_UPSTREAM_TOKEN_SECS = String(TOKEN_SECONDS);
    await started.start();
    for (let index = 0; index < LEAVES; index += 1) {
      const onChild: { status: number; body: string } = await started.request('POST', '/devices', {
        deviceId: leafId(index),
        authentication: { type: 'sas', primaryKey: leafKey(index) },
      });
      assert.equal(onChild.status, 201, onChild.body);
    }
    await deploy(started, childDeployment('Amqp'));
    await eventually(async () => ((await mqttAddress(started)).port > 0 ? true : undefined), 'the child hub');
    childEndpoint = {
      host: '127.0.0.1',
      port: childMqtt,
      hostname: 'localhost',
      ca: readFileSync(rootCaOf(started), 'utf8'),
    };
  });

  after(async () => {
    await Promise.all(leaves.map((client) => end(client).catch(() => undefined)));
    await cleanupDaemons(child, parent);
  });

  test("a module's sequenced messages reach the parent's module over AMQP, in order", async () => {
    const running = child!;
    const up = await eventually(async () => {
      const report = upstreamOf(running);
      return report?.connected && report.protocol === 'AMQP' ? report : undefined;
    }, 'the child to connect over AMQP');
    assert.equal(up.target, `127.0.0.1:${ports.amqp}`);
    assert.match(
      running.cli(['system', 'status']).stdout,
      new RegExp(
        `Upstream: AMQP \\(UpstreamProtocol Amqp\\) to 127\\.0\\.0\\.1:${ports.amqp} \\(parent edge device\\), connected since `,
      ),
    );
    await deploy(
      running,
      childDeployment('Amqp', {
        sender: nodeModule('upstream-sender.js', [String(MODULE_COUNT), '50', '5']),
      }),
    );
    const all = await eventually(
      async () => {
        const seqs = recorded(records)
          .filter((record) => record.body.startsWith('{'))
          .map((record) => record.seq);
        return new Set(seqs).size >= MODULE_COUNT ? seqs : undefined;
      },
      `the module's ${MODULE_COUNT} messages at the parent`,
      120_000,
    );
    assert.deepEqual(
      [...new Set(all)],
      Array.from({ length: MODULE_COUNT }, (_, seq) => seq),
      'each message, first arrivals in order',
    );
    // the child's own $edgeAgent reports its modules on its channel of the one connection
    await eventually(
      async () => {
        const modules = parentTwin(parent, 'child-1/$edgeAgent')?.reported.modules as
          Record<string, { runtimeStatus?: string }> | undefined;
        return modules?.sender?.runtimeStatus !== undefined ? true : undefined;
      },
      "child-1/$edgeAgent's reported properties in the parent's twins",
      30_000,
    );
    assert.doesNotMatch(parent.output, /sig=/, 'no token in the parent log');
    assert.doesNotMatch(running.output, /sig=/, 'no token in the child log');
  });

  test('a leaf device reports its twin, takes a method and a C2D message, all through the AMQP upstream', async () => {
    const running = child!;
    const index = 0;
    const token = buildSasToken({
      audience: `localhost/devices/${leafId(index)}`,
      key: leafKey(index),
      expiry: Math.floor(Date.now() / 1000) + 3600,
    });
    const connectionString = `HostName=localhost;DeviceId=leaf-sdk;SharedAccessKey=${leafKey(LEAVES)};GatewayHostName=localhost:${childMqtt}`;
    const onParent = await parent.request('POST', '/devices', {
      deviceId: 'leaf-sdk',
      parentId: 'child-1',
      authentication: { type: 'sas', primaryKey: leafKey(LEAVES) },
    });
    assert.equal(onParent.status, 201, onParent.body);
    const onChild = await running.request('POST', '/devices', {
      deviceId: 'leaf-sdk',
      authentication: { type: 'sas', primaryKey: leafKey(LEAVES) },
    });
    assert.equal(onChild.status, 201, onChild.body);
    // reported properties: a raw MQTT leaf patches them on the child; the child mirrors them upstream
    const reporter = await connect(childEndpoint, {
      clientId: leafId(index),
      username: `localhost/${leafId(index)}/?api-version=2021-04-12`,
      password: token,
    });
    try {
      await new Promise<void>((resolve, reject) =>
        reporter.publish(
          '$iothub/twin/PATCH/properties/reported/?$rid=1',
          JSON.stringify({ firmware: 'amqp-1' }),
          { qos: 1 },
          (error?: Error) => (error ? reject(error) : resolve()),
        ),
      );
      await eventually(
        async () => (parentTwin(parent, leafId(index))?.reported.firmware === 'amqp-1' ? true : undefined),
        `${leafId(index)}'s reported properties in the parent's twins`,
        30_000,
      );
    } finally {
      await end(reporter);
    }

    await expectLeafReachedFromParent(parent, running, 'leaf-sdk', connectionString);
  });

  test('tokens are renewed on the connection: it was never lost nor made again', () => {
    const running = child!;
    const connects = running.output.match(/upstream: connected to .* over AMQP/g) ?? [];
    assert.equal(connects.length, 1, running.output);
    assert.doesNotMatch(running.output, /upstream: .* lost: /);
    assert.doesNotMatch(running.output, /token not renewed/);
    assert.doesNotMatch(parent.output, /SAS token expired/);
  });

  test(`${LEAVES} leaf devices sending at once reach the parent over ONE TCP connection, which survives a SIGKILL of the parent`, async () => {
    const running = child!;
    for (let index = 0; index < LEAVES; index += 1) {
      leaves.push(
        await connect(childEndpoint, {
          clientId: leafId(index),
          username: `localhost/${leafId(index)}/?api-version=2021-04-12`,
          password: buildSasToken({
            audience: `localhost/devices/${leafId(index)}`,
            key: leafKey(index),
            expiry: Math.floor(Date.now() / 1000) + 3600,
          }),
        }),
      );
    }
    await sendFromLeaves(0, PER_LEAF);
    await eventually(
      async () => {
        const report = upstreamOf(running);
        return report && report.connections >= LEAVES + 1 ? true : undefined;
      },
      `the child to speak for all ${LEAVES} leaves upstream`,
      60_000,
    );
    const connections = toParent().filter((connection) => connection.remote !== ports.https);
    assert.equal(connections.length, 1, `one connection to the parent: ${JSON.stringify(connections)}`);
    assert.equal(connections[0]!.remote, ports.amqp, "on the parent's AMQP port");
    await eventually(
      async () => {
        const bodies = new Set(recorded(records).map((record) => record.body));
        return bodies.size >= LEAVES * PER_LEAF ? true : undefined;
      },
      'the first messages of every leaf at the parent',
      120_000,
    );

    // the parent dies while the leaves keep sending: the child holds their messages and reconnects
    const sending = sendFromLeaves(PER_LEAF, 2 * PER_LEAF);
    await parent.signal('SIGKILL');
    await eventually(
      async () => (upstreamOf(running)?.connected === false ? true : undefined),
      'the loss noticed',
    );
    await sending;
    await parent.start();
    const stillDeployed = await parent.json<{ systemModules: { edgeHub: { runtimeStatus: string } } }>(
      'GET',
      '/deployment/status',
    );
    if (stillDeployed.systemModules?.edgeHub?.runtimeStatus !== 'running')
      await deploy(parent, parentDeployment());
    await eventually(
      async () => {
        const bodies = new Set(recorded(records).map((record) => record.body));
        return bodies.size >= LEAVES * 2 * PER_LEAF + MODULE_COUNT ? true : undefined;
      },
      'every message at the parent after its restart',
      180_000,
    );
    assertAllInOrder(
      recorded(records).filter((record) => record.body.startsWith('leaf-')),
      2 * PER_LEAF,
    );
    const after = toParent().filter((connection) => connection.remote !== ports.https);
    assert.equal(after.length, 1, `still one connection to the parent: ${JSON.stringify(after)}`);
    assert.match(running.output, /upstream: 127\.0\.0\.1:\d+ lost: /);
  });

  test('an identity the parent refuses is dropped and counted; the shared connection stays up', async () => {
    const running = child!;
    const key = leafKey(LEAVES + 1);
    const added = await running.request('POST', '/devices', {
      deviceId: 'stranger',
      authentication: { type: 'sas', primaryKey: key },
    });
    assert.equal(added.status, 201, added.body);
    const stranger = await connect(childEndpoint, {
      clientId: 'stranger',
      username: 'localhost/stranger/?api-version=2021-04-12',
      password: buildSasToken({
        audience: 'localhost/devices/stranger',
        key,
        expiry: Math.floor(Date.now() / 1000) + 3600,
      }),
    });
    try {
      for (let seq = 0; seq < 3; seq += 1)
        await new Promise<void>((resolve, reject) =>
          stranger.publish(
            `devices/stranger/messages/events/seq=${seq}`,
            `stranger:${seq}`,
            { qos: 1 },
            (error?: Error) => (error ? reject(error) : resolve()),
          ),
        );
    } finally {
      await end(stranger);
    }
    const report = await eventually(async () => {
      const up = upstreamOf(running);
      return up && up.refused >= 3 ? up : undefined;
    }, "the stranger's messages refused upstream");
    assert.equal(report.refused, 3);
    assert.equal(report.connected, true, 'the link stays up');
    assert.equal(toParent().filter((connection) => connection.remote === ports.amqp).length, 1);
    assert.match(running.output, /refused stranger \(put-token refused with 401/);
    assert.equal(
      recorded(records).some((record) => record.body.startsWith('stranger:')),
      false,
      'nothing of the stranger reached the parent',
    );
  });

  test("with the parent's AMQP port gone, Amqp falls back to AMQP over WebSockets on its HTTPS port", async () => {
    const running = child!;
    const before = recorded(records).length;
    await deploy(parent, parentDeployment(false));
    const report = await eventually(
      async () => {
        const up = upstreamOf(running);
        return up?.connected && up.protocol === 'AMQP over WebSocket' ? up : undefined;
      },
      'the child on AMQP over WebSocket',
      60_000,
    );
    assert.equal(report.target, `127.0.0.1:${ports.https}`);
    await eventually(
      async () => (/AMQP over WebSocket on port \d+ instead/.test(running.output) ? true : undefined),
      'the fallback logged',
    );
    await sendFromLeaves(2 * PER_LEAF, 2 * PER_LEAF + 5);
    await eventually(
      async () => (recorded(records).length >= before + LEAVES * 5 ? true : undefined),
      'the messages sent over the fallback',
      60_000,
    );
    assert.equal(toParent().filter((connection) => connection.remote === ports.https).length >= 1, true);
  });

  test('AmqpWs and MqttWs go to the HTTPS port from the start', async () => {
    const running = child!;
    for (const [protocol, name] of [
      ['AmqpWs', 'AMQP over WebSocket'],
      ['MqttWs', 'MQTT over WebSocket'],
    ] as const) {
      const before = recorded(records).length;
      await deploy(running, childDeployment(protocol));
      const report = await eventually(
        async () => {
          const up = upstreamOf(running);
          return up?.connected && up.protocol === name && up.requestedProtocol === protocol ? up : undefined;
        },
        `the child on ${name}`,
        60_000,
      );
      assert.equal(report.target, `127.0.0.1:${ports.https}`);
      await sendFromLeaves(0, 3);
      await eventually(
        async () => (recorded(records).length >= before + LEAVES * 3 ? true : undefined),
        `messages over ${name}`,
        60_000,
      );
    }
  });
});
