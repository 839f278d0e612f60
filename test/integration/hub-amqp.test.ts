import assert from 'node:assert/strict';
import path from 'node:path';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { edgeHubModuleKey } from '../../src/runtime/identity/module-keys.js';
import { buildSasToken } from '../../src/runtime/identity/sas.js';
import { AmqpTestClient, dataBody, opened } from '../helpers/amqp-client.js';
import { memory } from '../helpers/proc-stats.js';
import { TestDaemon, eventually, hubPorts, manifest } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import {
  LeafDevice,
  expectRebootAnswered,
  leafDeployment,
  selfSignedCertificate,
} from '../helpers/leaf-device.js';

const HUB = 'hub.example.net';

describe('the AMQP head: leaf devices with the SDK over AMQP, and what it refuses', () => {
  const daemon = new TestDaemon({}, [], 'localhost');
  const leaves: LeafDevice[] = [];
  const clients: AmqpTestClient[] = [];
  let amqpPort: number;
  let ca: string;
  const keys: Record<string, string> = {};
  const logs = (module: string) => daemon.cli(['logs', module]).stdout;
  const token = (id: string, expiry = Date.now() / 1000 + 3600) =>
    buildSasToken({ audience: `${HUB}/devices/${id}`, key: keys[id]!, expiry });
  const connect = async (plain?: { username: string; password: string }) => {
    const client = await AmqpTestClient.connect(amqpPort, ca, plain);
    clients.push(client);
    return client;
  };
  const receivedByModule = (pattern: RegExp) =>
    eventually(async () => (pattern.test(logs('receiver')) ? true : undefined), `receiver to log ${pattern}`);

  // the receiver module (over MQTT: the runtime names the gateway with the MQTT port) is where the
  // route brings the leaf devices' telemetry; SDK modules over AMQP are in hub-sdk.test.ts
  before(async () => {
    const [mqttPort, port] = await Promise.all([freePort(), freePort()]);
    amqpPort = port;
    await daemon.start();
    ca = path.join(daemon.homedir, 'hsm', 'certs', 'edge_owner_ca.cert.pem');
    const document = leafDeployment(hubPorts(mqttPort, 0, undefined, amqpPort));
    const result = await daemon.request('POST', '/deployment', document);
    assert.equal(result.status, 200, result.body);
    await eventually(async () => (logs('receiver').includes('reported') ? true : undefined), 'the receiver');
    for (const id of ['leaf1', 'leaf2']) {
      const added = daemon.cli(['identity', 'add', id, '--json']);
      assert.equal(added.code, 0, added.stderr);
      keys[id] = (JSON.parse(added.stdout) as { primaryKey: string }).primaryKey;
    }
  });
  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(leaves.map((device) => device.stop()));
    if (process.env.DEBUG_DAEMON) console.log(daemon.output, logs('receiver'));
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await daemon.cleanup();
  });

  test('a leaf device with the SDK over AMQP sends telemetry, answers a method, completes C2D', async () => {
    const connectionString = `HostName=${HUB};DeviceId=leaf1;SharedAccessKey=${keys.leaf1};GatewayHostName=localhost:${amqpPort}`;
    const device = new LeafDevice(connectionString, ca, 3, undefined, 'amqp');
    leaves.push(device);
    await device.said('sent 3');
    await receivedByModule(/input in1 seq=2 body=\{"seq":2,"from":"leaf"\}/);

    expectRebootAnswered(daemon, 'leaf1');
    await device.said('method reboot {"in":5}');

    const sent = await eventually(async () => {
      const run = daemon.cli([
        'send',
        'leaf1',
        'hello leaf',
        '--props',
        'kind=command',
        '--correlation-id',
        'c-7',
      ]);
      return run.code === 0 ? run : undefined;
    }, 'leaf1 to listen for cloud-to-device messages');
    const { messageId } = JSON.parse(sent.stdout) as { messageId: string };
    await device.said(`c2d hello leaf id=${messageId} cid=c-7 props={"kind":"command"}`);
    await device.stop();
  });

  test('an X.509 device over AMQP is known by its client certificate; another certificate is refused', async () => {
    const own = selfSignedCertificate(daemon.dir, 'cam3');
    const other = selfSignedCertificate(daemon.dir, 'cam3-other');
    const added = daemon.cli(['identity', 'add', 'cam3', '--thumbprint', own.thumbprint, '--json']);
    assert.equal(added.code, 0, added.stderr);
    const x509String = `HostName=${HUB};DeviceId=cam3;x509=true;GatewayHostName=localhost:${amqpPort}`;
    const device = new LeafDevice(x509String, ca, 2, own, 'amqp');
    leaves.push(device);
    await device.said('sent 2');
    await receivedByModule(/input in1 seq=1 body=\{"seq":1,"from":"leaf"\}/);
    await device.stop();

    const impostor = new LeafDevice(x509String, ca, 1, other, 'amqp');
    leaves.push(impostor);
    assert.notEqual(await impostor.exited, 0);
    assert.ok(!impostor.output.includes('sent 1'), impostor.output);
    assert.match(
      daemon.output,
      /refused cam3: cam3: the client certificate's thumbprint is not the device's/,
    );
  });

  test('several identities share one connection, each with its own put-token', async () => {
    const client = await connect();
    assert.equal(await client.putToken(`${HUB}/devices/leaf1`, token('leaf1')), 200);
    assert.equal(await client.putToken(`${HUB}/devices/leaf2`, token('leaf2')), 200);
    // a new put-token for the same identity refreshes it
    assert.equal(await client.putToken(`${HUB}/devices/leaf2`, token('leaf2')), 200);
    for (const id of ['leaf1', 'leaf2']) {
      const { link, outcome } = await client.sender(`/devices/${id}/messages/events`);
      assert.deepEqual(outcome, { ok: true });
      const delivered = await AmqpTestClient.send(link, {
        body: dataBody(`{"seq":9,"from":"${id}"}`),
        application_properties: { seq: '9' },
      });
      assert.deepEqual(delivered, { ok: true });
    }
    await receivedByModule(/input in1 seq=9 body=\{"seq":9,"from":"leaf1"\}/);
    await receivedByModule(/input in1 seq=9 body=\{"seq":9,"from":"leaf2"\}/);
  });

  test("an IoT Edge child's hub acts for an identity in its scope: its $edgeHub token put for it, the chain on the link", async () => {
    const added = daemon.cli(['identity', 'add', 'edge-c', '--edge', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const { connectionString } = JSON.parse(added.stdout) as { connectionString: string };
    const deviceKey = /SharedAccessKey=([^;]+)/.exec(connectionString)![1]!;
    const below = daemon.cli(['identity', 'add', 'sensor-c', '--parent', 'edge-c']);
    assert.equal(below.code, 0, below.stderr);
    // as the C# SDK puts it for IoT Edge's hub: IoT Hub's token type, named for the identity acted
    // for, the token the acting hub's own (its audience encoded as IoT Edge's token provider writes it)
    const edgeHubToken = buildSasToken({
      audience: `${HUB}/devices/edge-c/modules/%24edgeHub`,
      key: edgeHubModuleKey(deviceKey),
      expiry: Date.now() / 1000 + 3600,
    });
    const client = await connect();
    assert.equal(
      await client.putToken(`${HUB}/devices/sensor-c`, edgeHubToken, 'azure-devices.net:sastoken'),
      200,
    );
    const { link, outcome } = await client.sender('/devices/sensor-c/messages/events', {
      'com.microsoft:auth-chain': 'sensor-c;edge-c',
    });
    assert.deepEqual(outcome, { ok: true });
    const delivered = await AmqpTestClient.send(link, {
      body: dataBody('{"seq":4,"from":"sensor-c"}'),
      application_properties: { seq: '4' },
    });
    assert.deepEqual(delivered, { ok: true });
    await receivedByModule(/input in1 seq=4 body=\{"seq":4,"from":"sensor-c"\}/);
    // the same token does not make the child's hub any device outside its scope
    assert.equal(
      await client.putToken(`${HUB}/devices/leaf2`, edgeHubToken, 'azure-devices.net:sastoken'),
      401,
    );
    // the daemon's log reaches the test a little later than the answer
    await eventually(
      async () => (/leaf2 is not in the scope of edge-c/.test(daemon.output) ? true : undefined),
      "the refusal in the daemon's log",
    );
  });

  test('refused with AMQP errors: links without a token, unknown addresses, bad tokens, oversize messages', async () => {
    const client = await connect();
    const refused = async (
      promise: Promise<{ outcome: unknown }>,
      condition: string,
      description: RegExp,
    ) => {
      const { outcome } = await promise;
      assert.equal((outcome as { ok: boolean }).ok, false, JSON.stringify(outcome));
      assert.equal((outcome as { condition: string }).condition, condition);
      assert.match((outcome as { description: string }).description, description);
    };
    await refused(
      client.sender('/devices/leaf1/messages/events'),
      'amqp:unauthorized-access',
      /no token for leaf1 on this connection/,
    );
    // leaf1's token for leaf2's audience, a token that expired, a token that is not one
    assert.equal(await client.putToken(`${HUB}/devices/leaf2`, token('leaf1')), 401);
    assert.equal(await client.putToken(`${HUB}/devices/leaf1`, token('leaf1', Date.now() / 1000 - 60)), 401);
    assert.equal(await client.putToken(`${HUB}/devices/leaf1`, 'not a token'), 401);
    assert.equal(await client.putToken(`${HUB}/things/leaf1`, token('leaf1')), 400);
    await refused(client.sender('/devices/leaf2/messages/events'), 'amqp:unauthorized-access', /leaf2/);

    assert.equal(await client.putToken(`${HUB}/devices/leaf1`, token('leaf1')), 200);
    await refused(client.sender('/devices/leaf1/files'), 'amqp:not-found', /unknown link address/);
    await refused(client.receiver('/devices/leaf1/messages/events'), 'amqp:not-found', /cannot receive/);
    await refused(client.sender('/devices/leaf2/twin'), 'amqp:unauthorized-access', /no token for leaf2/);
    const { link, outcome } = await client.sender('/devices/leaf1/messages/events');
    assert.deepEqual(outcome, { ok: true });
    const oversize = await AmqpTestClient.send(link, { body: dataBody('x'.repeat(300 * 1024)) });
    assert.equal(oversize.ok, false);
    assert.equal((oversize as { condition: string }).condition, 'amqp:link:message-size-exceeded');
    assert.match((oversize as { description: string }).description, /over the 262144-byte limit/);
    // the link and the connection go on
    assert.deepEqual(await AmqpTestClient.send(link, { body: dataBody('{"seq":10,"from":"leaf1"}') }), {
      ok: true,
    });
    await receivedByModule(/input in1 seq=undefined body=\{"seq":10,"from":"leaf1"\}/);
    // a message far over the limit is not held until complete: its connection ends, others go on
    const other = await connect();
    assert.equal(await other.putToken(`${HUB}/devices/leaf2`, token('leaf2')), 200);
    const closed = new Promise((resolve) => client.connection.once('disconnected', resolve));
    void AmqpTestClient.send(link, { body: dataBody('y'.repeat(4 * 1024 * 1024)) });
    await closed;
    await eventually(
      async () =>
        /a message already \d+ bytes long is over the 327680-byte limit: closed/.test(daemon.output) ||
        undefined,
      'the hub to log the oversize message',
    );
    const { link: stillOpen } = await other.sender('/devices/leaf2/messages/events');
    assert.deepEqual(await AmqpTestClient.send(stillOpen, { body: dataBody('{"seq":13,"from":"leaf2"}') }), {
      ok: true,
    });
    assert.ok(!daemon.output.includes(keys.leaf1!), 'keys never reach the log');
    assert.ok(!/sig=/.test(daemon.output), 'tokens never reach the log');
  });

  test("an identity's token expires: its links end, the other identity's on the connection go on", async () => {
    const client = await connect();
    assert.equal(await client.putToken(`${HUB}/devices/leaf1`, token('leaf1', Date.now() / 1000 + 2)), 200);
    assert.equal(await client.putToken(`${HUB}/devices/leaf2`, token('leaf2')), 200);
    const expiring = await client.sender('/devices/leaf1/messages/events');
    const staying = await client.sender('/devices/leaf2/messages/events');
    const ended = await new Promise<{ condition: string; description: string }>((resolve) =>
      expiring.link.once('sender_error', () => resolve(expiring.link.error as never)),
    );
    assert.equal(ended.condition, 'amqp:unauthorized-access');
    assert.match(ended.description, /the SAS token expired/);
    assert.deepEqual(
      await AmqpTestClient.send(staying.link, { body: dataBody('{"seq":14,"from":"leaf2"}') }),
      {
        ok: true,
      },
    );
    // without a new token, leaf1's addresses are refused again
    assert.equal((await client.sender('/devices/leaf1/messages/events')).outcome.ok, false);
  });

  test('a new put-token before expiry refreshes the identity: its links outlive the first token', async () => {
    const client = await connect();
    assert.equal(await client.putToken(`${HUB}/devices/leaf1`, token('leaf1', Date.now() / 1000 + 2)), 200);
    const { link } = await client.sender('/devices/leaf1/messages/events');
    assert.equal(await client.putToken(`${HUB}/devices/leaf1`, token('leaf1')), 200);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.ok(link.is_open(), 'the link outlived the first token');
    assert.deepEqual(await AmqpTestClient.send(link, { body: dataBody('{"seq":15,"from":"leaf1"}') }), {
      ok: true,
    });
  });

  test('a connection holds at most 1024 links and 64 sessions; past that one is refused, the others stay', async () => {
    const client = await connect();
    const links = await Promise.all(Array.from({ length: 1030 }, () => client.sender('$cbs')));
    const refused = links.filter(({ outcome }) => !outcome.ok);
    // the client's own $cbs pair counts too
    assert.equal(refused.length, 8);
    assert.deepEqual(refused[0]!.outcome, {
      ok: false,
      condition: 'amqp:resource-limit-exceeded',
      description: 'a connection holds at most 1024 links',
    });
    assert.equal(await client.putToken(`${HUB}/devices/leaf1`, token('leaf1')), 200);
    // sessions too: past 64 a new one is ended with the error, the connection goes on
    const sessions = Array.from({ length: 70 }, () => {
      const session = client.connection.create_session();
      session.begin();
      return new Promise<string | undefined>((resolve) => {
        session.once('session_error', () =>
          resolve(String((session.error as { condition?: unknown } | undefined)?.condition)),
        );
        session.once('session_open', () => setTimeout(() => resolve(undefined), 500));
      });
    });
    const ended = (await Promise.all(sessions)).filter((condition) => condition !== undefined);
    assert.deepEqual(
      ended,
      Array.from({ length: 7 }, () => 'amqp:resource-limit-exceeded'),
    );
    assert.equal(await client.putToken(`${HUB}/devices/leaf2`, token('leaf2')), 200);
    assert.equal(
      daemon.output.match(/refused: a connection holds at most 1024 links/g)?.length,
      1,
      'logged once',
    );
  });

  test("a put-token whose token is for another audience is refused: another device's, another hub's, a module's, nobody's", async () => {
    const client = await connect();
    const signed = (audience: string, id: string) =>
      buildSasToken({ audience, key: keys[id]!, expiry: Date.now() / 1000 + 3600 });
    // leaf2's valid token, put for leaf1; leaf1's key over another hub's or one of its modules' audience
    assert.equal(await client.putToken(`${HUB}/devices/leaf1`, token('leaf2')), 401);
    assert.equal(
      await client.putToken(`${HUB}/devices/leaf1`, signed('other-hub.example.net/devices/leaf1', 'leaf1')),
      401,
    );
    assert.equal(
      await client.putToken(
        `other-hub.example.net/devices/leaf1`,
        signed('other-hub.example.net/devices/leaf1', 'leaf1'),
      ),
      401,
    );
    assert.equal(
      await client.putToken(`${HUB}/devices/leaf1`, signed(`${HUB}/devices/leaf1/modules/m1`, 'leaf1')),
      401,
    );
    assert.equal(
      await client.putToken(`${HUB}/devices/nobody`, signed(`${HUB}/devices/nobody`, 'leaf1')),
      401,
    );
    // none of them opened anything; the connection still takes a good token
    const { outcome } = await client.sender('/devices/leaf1/messages/events');
    assert.equal((outcome as { condition?: string }).condition, 'amqp:unauthorized-access');
    assert.equal(await client.putToken(`${HUB}/devices/leaf1`, token('leaf1')), 200);
    assert.deepEqual((await client.sender('/devices/leaf1/messages/events')).outcome, { ok: true });
  });

  test('thousands of links over many sessions and connections: refused past the limits, memory bounded, others unaffected', async () => {
    const pid = daemon.process!.pid!;
    const healthy = await connect();
    assert.equal(await healthy.putToken(`${HUB}/devices/leaf2`, token('leaf2')), 200);
    const { link: healthyLink } = await healthy.sender('/devices/leaf2/messages/events');
    const before = memory(pid);

    // 8 connections, each with 60 sessions of 20 links (1200 links and the $cbs pair each): half
    // telemetry links of the connection's own device (one connection per identity, as IoT Hub
    // has it), half links to $cbs
    const CONNECTIONS = 8;
    const SESSIONS = 60;
    const LINKS = 20;
    const devices = Array.from({ length: CONNECTIONS }, (_, index) => `flood${index}`);
    for (const id of devices) {
      const added = daemon.cli(['identity', 'add', id, '--json']);
      assert.equal(added.code, 0, added.stderr);
      keys[id] = (JSON.parse(added.stdout) as { primaryKey: string }).primaryKey;
    }
    /** One flood: every connection opens its links, the refusals are checked, then all close. */
    const floodRound = async () => {
      const flood = await Promise.all(devices.map(() => connect()));
      const outcomes = await Promise.all(
        flood.map(async (client, index) => {
          const id = devices[index]!;
          assert.equal(await client.putToken(`${HUB}/devices/${id}`, token(id)), 200);
          const links = Array.from({ length: SESSIONS }, () => {
            const session = client.connection.create_session();
            session.begin();
            return Array.from({ length: LINKS }, (_, index) =>
              opened(
                session.open_sender({
                  target: { address: index % 2 ? '$cbs' : `/devices/${id}/messages/events` },
                } as never),
              ),
            );
          });
          return Promise.all(links.flat());
        }),
      );
      const during = memory(pid);
      for (const perConnection of outcomes) {
        const refused = perConnection.filter((outcome) => !outcome.ok);
        // 1024 links per connection, its own $cbs pair among them
        assert.equal(perConnection.length - refused.length, 1022);
        assert.deepEqual(refused[0], {
          ok: false,
          condition: 'amqp:resource-limit-exceeded',
          description: 'a connection holds at most 1024 links',
        });
      }
      // the connection that was there before goes on, and a new one is served
      assert.deepEqual(
        await AmqpTestClient.send(healthyLink, { body: dataBody('{"seq":16,"from":"leaf2"}') }),
        {
          ok: true,
        },
      );
      const late = await connect();
      assert.equal(await late.putToken(`${HUB}/devices/leaf1`, token('leaf1')), 200);
      const { link: lateLink } = await late.sender('/devices/leaf1/messages/events');
      assert.deepEqual(await AmqpTestClient.send(lateLink, { body: dataBody('{"seq":17,"from":"leaf1"}') }), {
        ok: true,
      });
      await Promise.all(
        [...flood, late].map(
          (client) =>
            new Promise((resolve) => {
              client.connection.once('connection_close', resolve);
              client.connection.once('disconnected', resolve);
              client.close();
            }),
        ),
      );
      // the hub lets go of connections their clients closed cleanly: their devices are disconnected
      await eventually(async () => {
        const { devices: listed } = await daemon.json<{
          devices: { deviceId: string; connectionState: string }[];
        }>('GET', '/devices');
        return listed.every(
          (device) => !devices.includes(device.deviceId) || device.connectionState === 'Disconnected',
        )
          ? true
          : undefined;
      }, 'the flood devices to be disconnected');
      return { during, after: memory(pid) };
    };

    const first = await floodRound();
    const second = await floodRound();
    const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
    console.log(
      `daemon RSS: ${mib(before.rss)} MiB before; with ${CONNECTIONS * 1024} links open ${mib(first.during.rss)} MiB, ` +
        `then ${mib(first.after.rss)} MiB; a second flood ${mib(second.during.rss)} MiB, then ${mib(second.after.rss)} MiB`,
    );
    // generous bounds: a link costs the hub kilobytes, and a second flood reuses what the first took
    assert.ok(
      first.during.rss - before.rss < 256 * 1024 * 1024,
      `grew ${mib(first.during.rss - before.rss)} MiB`,
    );
    assert.ok(
      second.after.rss - first.after.rss < 32 * 1024 * 1024,
      `a second flood kept ${mib(second.after.rss - first.after.rss)} MiB more`,
    );
    assert.ok(!daemon.output.includes(keys.flood0!), 'keys never reach the log');
  });

  test('SASL PLAIN: the username names the device, the password is its token', async () => {
    const client = await connect({ username: `leaf2@sas.${HUB}`, password: token('leaf2') });
    const { link, outcome } = await client.sender('/devices/leaf2/messages/events');
    assert.deepEqual(outcome, { ok: true });
    assert.deepEqual(await AmqpTestClient.send(link, { body: dataBody('{"seq":11,"from":"leaf2"}') }), {
      ok: true,
    });
    await assert.rejects(
      AmqpTestClient.connect(amqpPort, ca, { username: `leaf2@sas.${HUB}`, password: token('leaf1') }),
    );
    await assert.rejects(
      AmqpTestClient.connect(amqpPort, ca, { username: 'leaf2', password: token('leaf2') }),
    );
  });

  test('garbage instead of AMQP ends that connection only', async () => {
    const healthy = await connect();
    assert.equal(await healthy.putToken(`${HUB}/devices/leaf1`, token('leaf1')), 200);
    for (const garbage of [
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.from('AMQP\x00\x01\x00\x00\xff\xff\xff\xff\x02\x00\x00\x00junk', 'latin1'),
    ]) {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: amqpPort,
        ca: readFileSync(ca),
        servername: 'localhost',
      });
      await new Promise((resolve) => socket.once('secureConnect', resolve));
      socket.write(garbage);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('close', resolve));
    }
    const { link, outcome } = await healthy.sender('/devices/leaf1/messages/events');
    assert.deepEqual(outcome, { ok: true });
    assert.deepEqual(await AmqpTestClient.send(link, { body: dataBody('{"seq":12,"from":"leaf1"}') }), {
      ok: true,
    });
  });
});
