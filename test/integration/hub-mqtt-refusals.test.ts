import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, manifest, nodeModule } from '../helpers/daemon.js';
import {
  API_VERSION,
  DEVICE_ID,
  IOTHUB_HOSTNAME,
  ModuleCredentials,
  closed,
  connackCode,
  connect,
  connectPacket,
  end,
  hasCommand,
  hubEndpoint,
  mqttClient,
  PublishReader,
  publishHeader,
  pubackPacket,
  rawTls,
  subscribePacket,
  type HubEndpoint,
  type MqttClient,
} from '../helpers/mqtt-client.js';

const HOSTNAME = 'localhost';
const D = DEVICE_ID;

/**
 * Process modules whose identities the test connects as. `good` and `sender` are the well-behaved
 * clients that must keep working through every refusal; the others are used by one case each.
 */
const MODULES = [
  'good',
  'sender',
  'm1',
  'm2',
  'rogue',
  'willer',
  'twice',
  'pubber',
  'subber',
  'feeder',
  'lagger',
];

function deployment() {
  const document = manifest(
    Object.fromEntries(MODULES.map((name) => [name, nodeModule('sleeper.js', ['60000'])])),
  );
  document.modulesContent.$edgeHub['properties.desired'].routes = {
    probes: `FROM /messages/modules/sender INTO BrokeredEndpoint("/modules/good/inputs/in")`,
    rogue: `FROM /messages/modules/rogue INTO BrokeredEndpoint("/modules/good/inputs/rogue")`,
    wills: `FROM /messages/modules/willer INTO BrokeredEndpoint("/modules/good/inputs/will")`,
    mosquitto: `FROM /messages/modules/pubber INTO BrokeredEndpoint("/modules/subber/inputs/in")`,
    lagging: `FROM /messages/modules/feeder INTO BrokeredEndpoint("/modules/lagger/inputs/in")`,
  };
  return document;
}

interface Received {
  topic: string;
  payload: Buffer;
}

/** Resolves with the first message (already received or coming) that `matches`. */
function message(
  log: Received[],
  client: MqttClient,
  matches: (message: Received) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<Received> {
  const seen = log.find(matches);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeListener('message', listener);
      reject(new Error(`no message: ${what}`));
    }, timeoutMs);
    const listener = (topic: string, payload: Buffer) => {
      if (!matches({ topic, payload })) return;
      clearTimeout(timer);
      client.removeListener('message', listener);
      resolve({ topic, payload });
    };
    client.on('message', listener);
  });
}

function subscribe(client: MqttClient, topic: string, qos: 0 | 1): Promise<number> {
  return new Promise((resolve, reject) =>
    client.subscribe(topic, { qos }, (error, granted) => (error ? reject(error) : resolve(granted[0]!.qos))),
  );
}

function publish(client: MqttClient, topic: string, payload: string | Buffer, qos: 0 | 1 | 2): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(topic, payload, { qos }, (error) => (error ? reject(error) : resolve())),
  );
}

/** Resolves when the socket closes; `bytes` is everything the hub sent on it. */
function socketClosed(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(Buffer.concat(chunks));
    socket.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Writes `bytes` on a fresh TLS connection and returns what the hub answered before closing it. */
function exchange(endpoint: HubEndpoint, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = tls.connect(
      { host: endpoint.host, port: endpoint.port, servername: endpoint.hostname, ca: endpoint.ca },
      () => socket.write(bytes),
    );
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** A raw TLS connection that sent a CONNECT and got CONNACK accepted. */
async function rawSession(
  endpoint: HubEndpoint,
  fields: Parameters<typeof connectPacket>[0],
): Promise<tls.TLSSocket> {
  const socket = await rawTls(endpoint);
  const connack = new Promise<Buffer>((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4) return;
      socket.removeListener('data', onData);
      resolve(buffered);
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('closed before CONNACK')));
  });
  socket.write(connectPacket(fields));
  assert.deepEqual([...(await connack)], [0x20, 0x02, 0x00, 0x00], 'CONNACK accepted');
  return socket;
}

const CONNACK_NOT_AUTHORIZED = [0x20, 0x02, 0x00, 0x05];

describe('the hub refuses bad MQTT input and keeps serving everyone else', () => {
  const daemon = new TestDaemon({}, [], HOSTNAME);
  const credentials = new ModuleCredentials(daemon, HOSTNAME);
  let hub: HubEndpoint;
  let good: MqttClient;
  let sender: MqttClient;
  /** Everything `good` received, in order. */
  const goodLog: Received[] = [];
  let wellBehavedClosed = 0;
  let probes = 0;

  /**
   * The well-behaved clients were never disconnected, `good` still gets its twin, and a message
   * `sender` publishes is still routed to `good`'s input.
   */
  async function stillServed(): Promise<void> {
    assert.equal(wellBehavedClosed, 0, 'the well-behaved clients are still connected');
    const n = ++probes;
    const twin = message(
      goodLog,
      good,
      ({ topic }) => topic === `$iothub/twin/res/200/?$rid=probe-${n}`,
      `twin response ${n}`,
    );
    good.publish(`$iothub/twin/GET/?$rid=probe-${n}`, ' ', { qos: 0 });
    const document = JSON.parse((await twin).payload.toString('utf8')) as Record<string, unknown>;
    assert.ok('desired' in document && 'reported' in document, 'a twin document');

    const routed = message(
      goodLog,
      good,
      ({ topic, payload }) =>
        topic.startsWith(`devices/${D}/modules/good/inputs/in/`) && payload.toString() === `probe ${n}`,
      `routed probe ${n}`,
    );
    await publish(sender, `devices/${D}/modules/sender/messages/events/`, `probe ${n}`, 1);
    await routed;
    assert.equal(wellBehavedClosed, 0, 'the well-behaved clients are still connected');
  }

  before(async () => {
    await daemon.start();
    // One module first: the agent's identity store loses generation ids of modules created
    // concurrently before it has loaded identities.json once (AgentStore: `generationIds ??= await`).
    const first = await daemon.request(
      'POST',
      '/deployment',
      manifest({ good: nodeModule('sleeper.js', ['60000']) }),
    );
    assert.equal(first.status, 200, first.body);
    await hubEndpoint(daemon, ['good'], HOSTNAME);
    const result = await daemon.request('POST', '/deployment', deployment());
    assert.equal(result.status, 200, result.body);
    hub = await hubEndpoint(daemon, MODULES, HOSTNAME);

    good = await connect(hub, credentials.connectFields('good'));
    good.on('message', (topic, payload) => goodLog.push({ topic, payload }));
    good.on('close', () => wellBehavedClosed++);
    assert.equal(await subscribe(good, '$iothub/twin/res/#', 0), 0);
    assert.equal(await subscribe(good, `devices/${D}/modules/good/#`, 1), 1);
    sender = await connect(hub, credentials.connectFields('sender'));
    sender.on('close', () => wellBehavedClosed++);
    await stillServed();
  });

  after(async () => {
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    for (const client of [good, sender]) client?.end(true);
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await daemon.cleanup();
  });

  test('SAS tokens with a wrong signature, expired, or for another audience: CONNACK 5', async () => {
    const asM1 = (password?: string) => ({
      clientId: credentials.clientId('m1'),
      username: credentials.username('m1'),
      ...(password === undefined ? {} : { password }),
    });
    const now = Math.floor(Date.now() / 1000);
    const valid = credentials.token('m1');
    const tampered = valid.replace(/sig=([^&])/, (_all, first: string) => `sig=${first === 'A' ? 'B' : 'A'}`);
    const refusals: Record<string, string | undefined> = {
      'signed with another module key': credentials.token('m1', { key: credentials.key('m2') }),
      'signature altered': tampered,
      'signed with the secondary key of another module': credentials.token('m1', {
        key: credentials.key('m2', 'secondary'),
      }),
      expired: credentials.token('m1', { expiry: now - 60 }),
      'audience of another host': credentials.token('m1', {
        audience: `other.example.net/devices/${D}/modules/m1`,
      }),
      'audience of another module': credentials.token('m1', {
        audience: `${HOSTNAME}/devices/${D}/modules/m2`,
      }),
      'audience of another device': credentials.token('m1', {
        audience: `${HOSTNAME}/devices/edge-2/modules/m1`,
      }),
      'not a SAS token': 'hunter2',
      'no password': undefined,
    };
    for (const [why, password] of Object.entries(refusals)) {
      assert.equal(await connackCode(hub, asM1(password)), 5, why);
    }
    await eventually(
      async () =>
        /refused edge-1\/m1: neither a SAS token nor a client certificate/.test(daemon.output)
          ? true
          : undefined,
      'the refusal without credentials to be logged with its reason',
    );
    // the same identity with good tokens (either audience host, either key) is accepted
    assert.equal(await connackCode(hub, asM1(valid)), 0, 'a valid token');
    const iothubAudience = `${IOTHUB_HOSTNAME}/devices/${D}/modules/m1`;
    assert.equal(await connackCode(hub, asM1(credentials.token('m1', { audience: iothubAudience }))), 0);
    assert.equal(
      await connackCode(hub, asM1(credentials.token('m1', { key: credentials.key('m1', 'secondary') }))),
      0,
    );
    await stillServed();
  });

  test('a module impersonating another is refused: CONNACK 5', async () => {
    const cases = {
      "client id and username of m1, m2's valid token": {
        clientId: credentials.clientId('m1'),
        username: credentials.username('m1'),
        password: credentials.token('m2'),
      },
      'client id of m1, username and valid token of m2': {
        clientId: credentials.clientId('m1'),
        username: credentials.username('m2'),
        password: credentials.token('m2'),
      },
      'username naming m1, client id and valid token of m2': {
        clientId: credentials.clientId('m2'),
        username: credentials.username('m1'),
        password: credentials.token('m2'),
      },
      "m2's token presented as the device itself": {
        clientId: D,
        username: `${HOSTNAME}/${D}/?api-version=${API_VERSION}`,
        password: credentials.token('m2'),
      },
      'a module that does not exist, with a token signed by m2': {
        clientId: `${D}/ghost`,
        username: credentials.username('ghost'),
        password: credentials.token('ghost', { key: credentials.key('m2') }),
      },
    };
    for (const [why, fields] of Object.entries(cases)) assert.equal(await connackCode(hub, fields), 5, why);
    await stillServed();
  });

  test('a username without api-version is refused: CONNACK 5', async () => {
    for (const username of [
      `${HOSTNAME}/${D}/m1/`,
      `${HOSTNAME}/${D}/m1/?DeviceClientType=test`,
      `${HOSTNAME}/${D}/m1/?api-version=`,
      `${HOSTNAME}/${D}/m1?api-version=${API_VERSION}`,
    ]) {
      const fields = { clientId: credentials.clientId('m1'), username, password: credentials.token('m1') };
      assert.equal(await connackCode(hub, fields), 5, username);
    }
    await stillServed();
  });

  test("publishing to another identity's telemetry topic closes the connection; nothing is routed", async () => {
    for (const topic of [
      `devices/${D}/modules/sender/messages/events/`,
      `devices/${D}/messages/events/`,
      `devices/edge-2/modules/rogue/messages/events/`,
    ]) {
      const rogue = await connect(hub, credentials.connectFields('rogue'));
      const gone = closed(rogue);
      const acknowledged = publish(rogue, topic, 'forged', 1).then(
        () => 'acknowledged',
        () => 'failed',
      );
      await gone;
      // mqtt.js fails what is in flight when the connection closes: no PUBACK came first
      assert.equal(await acknowledged, 'failed', `no PUBACK for ${topic}`);
      rogue.end(true);
    }
    await stillServed();
    assert.ok(
      !goodLog.some(({ payload }) => payload.toString() === 'forged'),
      'the forged messages went nowhere',
    );
  });

  test("subscribing to another identity's topics is refused with SUBACK 0x80; the connection stays", async () => {
    const rogue = await connect(hub, credentials.connectFields('rogue'));
    const rogueLog: Received[] = [];
    rogue.on('message', (topic, payload) => rogueLog.push({ topic, payload }));
    assert.equal(await subscribe(rogue, `devices/${D}/modules/good/#`, 1), 0x80, "good's inputs");
    assert.equal(await subscribe(rogue, `devices/${D}/modules/good/inputs/#`, 1), 0x80, "good's inputs");
    assert.equal(await subscribe(rogue, `devices/${D}/messages/devicebound/#`, 1), 0x80, "the device's C2D");
    // its own topics are still granted on the same connection
    assert.equal(await subscribe(rogue, `devices/${D}/modules/rogue/#`, 1), 1, 'its own inputs');
    assert.equal(await subscribe(rogue, '$iothub/twin/res/#', 0), 0, 'twin responses');
    const twin = message(
      rogueLog,
      rogue,
      ({ topic }) => topic.startsWith('$iothub/twin/res/200/'),
      'rogue twin',
    );
    rogue.publish('$iothub/twin/GET/?$rid=1', ' ', { qos: 0 });
    await twin;
    await stillServed();
    assert.ok(rogue.connected, 'the refused subscriptions did not close the connection');
    assert.ok(
      !rogueLog.some(({ topic }) => topic.includes('/modules/good/')),
      "rogue got none of good's messages",
    );
    await end(rogue);
  });

  test("filters outside IoT Hub's topics (#, $SYS/#, wildcards) are refused with SUBACK 0x80; the connection stays", async () => {
    const rogue = await connect(hub, credentials.connectFields('rogue'));
    const rogueLog: Received[] = [];
    rogue.on('message', (topic, payload) => rogueLog.push({ topic, payload }));
    for (const filter of [
      '#',
      '$SYS/#',
      '$SYS/+/clients/connected',
      '+/#',
      '$iothub/#',
      `devices/${D}/#`,
      `devices/${D}/modules/rogue/inputs/+`,
    ]) {
      assert.equal(await subscribe(rogue, filter, 1), 0x80, filter);
    }
    assert.equal(await subscribe(rogue, '$iothub/twin/res/#', 0), 0, 'its own twin responses');
    const twin = message(rogueLog, rogue, ({ topic }) => topic.startsWith('$iothub/twin/res/200/'), 'twin');
    rogue.publish('$iothub/twin/GET/?$rid=after-wildcards', ' ', { qos: 0 });
    await twin;
    await stillServed();
    assert.ok(rogue.connected, 'the refused subscriptions did not close the connection');
    assert.deepEqual(
      rogueLog.map(({ topic }) => topic).filter((topic) => !topic.startsWith('$iothub/twin/res/')),
      [],
      'nothing but its twin response reached it',
    );
    await end(rogue);
  });

  test('a message over 256 KiB closes the connection; the hub keeps serving', async () => {
    const rogue = await connect(hub, credentials.connectFields('rogue'));
    const gone = closed(rogue);
    const acknowledged = publish(
      rogue,
      `devices/${D}/modules/rogue/messages/events/`,
      Buffer.alloc(300 * 1024, 0x61),
      1,
    ).then(
      () => 'acknowledged',
      () => 'failed',
    );
    await gone;
    assert.equal(await acknowledged, 'failed', 'no PUBACK');
    rogue.end(true);
    await stillServed();
    assert.ok(
      !goodLog.some(({ topic }) => topic.includes('/inputs/rogue/')),
      'the oversize message was not routed',
    );
  });

  test('a packet header announcing more than the limit closes the connection before its body arrives', async () => {
    const socket = await rawSession(hub, credentials.connectFields('rogue'));
    const gone = socketClosed(socket);
    // 16 MiB announced, then sent in 64 KiB chunks, all but the last byte: a hub that waits for the
    // whole packet before judging it takes them all and keeps the connection
    const announced = 16 * 1024 * 1024;
    socket.write(publishHeader(announced));
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024);
    while (!socket.destroyed && sent < announced - 1) {
      const piece = chunk.subarray(0, Math.min(chunk.length, announced - 1 - sent));
      const written = await new Promise<boolean>((resolve) =>
        socket.write(piece, (error) => resolve(!error)),
      );
      if (written) sent += piece.length;
    }
    assert.ok(
      socket.destroyed,
      `the hub took ${sent} bytes of a packet over the limit and kept the connection`,
    );
    await gone;
    await stillServed();
  });

  test('a QoS 2 publish closes the connection', async () => {
    const rogue = await connect(hub, credentials.connectFields('rogue'));
    const gone = closed(rogue);
    const completed = publish(rogue, `devices/${D}/modules/rogue/messages/events/`, 'qos2', 2).then(
      () => 'completed',
      () => 'failed',
    );
    await gone;
    assert.equal(await completed, 'failed', 'no PUBREC');
    rogue.end(true);
    await stillServed();
    assert.ok(
      !goodLog.some(({ payload }) => payload.toString() === 'qos2'),
      'the QoS 2 message was not routed',
    );
  });

  test('garbage bytes close that socket only', async () => {
    // before the TLS handshake: not TLS at all
    const plain = net.connect({ host: hub.host, port: hub.port });
    plain.on('connect', () => plain.write(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')));
    await socketClosed(plain);

    // after the handshake, instead of a CONNECT (the first byte is no packet type a client sends)
    const garbage = randomBytes(4096);
    garbage[0] = 0xde;
    assert.equal((await exchange(hub, garbage)).length, 0, 'nothing answered');

    // a CONNECT type byte with a body that is not a CONNECT
    assert.equal(
      (await exchange(hub, Buffer.concat([Buffer.from([0x10, 0x10]), Buffer.from('not a connect!!!')])))
        .length,
      0,
    );

    // after a good CONNECT
    const socket = await rawSession(hub, credentials.connectFields('rogue'));
    const gone = socketClosed(socket);
    socket.write(Buffer.concat([Buffer.from([0xf0, 0x03]), randomBytes(1024)]));
    await gone;
    await stillServed();
  });

  test('1000 connections at once with bad tokens: each refused with CONNACK 5, the hub keeps serving', async () => {
    const expired = Math.floor(Date.now() / 1000) - 1;
    const packets = Array.from({ length: 1000 }, (_, i) => {
      switch (i % 4) {
        case 0: // another module's key
          return connectPacket({
            ...credentials.connectFields('m1'),
            password: credentials.token('m1', { key: credentials.key('m2') }),
          });
        case 1: // an identity that does not exist
          return connectPacket({
            clientId: `${D}/crowd-${i}`,
            username: credentials.username(`crowd-${i}`),
            password: credentials.token(`crowd-${i}`, { key: credentials.key('m1') }),
          });
        case 2: // expired
          return connectPacket({
            ...credentials.connectFields('m2'),
            password: credentials.token('m2', { expiry: expired }),
          });
        default: // no api-version
          return connectPacket({
            ...credentials.connectFields('m2'),
            username: `${HOSTNAME}/${D}/m2/?x=${i}`,
          });
      }
    });
    const answers = Promise.all(packets.map((packet) => exchange(hub, packet)));
    // served while the crowd is being refused, and after
    await stillServed();
    const answered = await answers;
    const refused = answered.filter((bytes) => bytes.equals(Buffer.from(CONNACK_NOT_AUTHORIZED))).length;
    const other = answered.filter((bytes) => !bytes.equals(Buffer.from(CONNACK_NOT_AUTHORIZED)));
    assert.equal(
      refused,
      1000,
      `every connection got CONNACK 5 then was closed; others: ${JSON.stringify(other.slice(0, 5).map((b) => b.toString('hex')))}`,
    );
    await stillServed();
  });

  test('a second connection with the same client id replaces the first', async () => {
    const first = await connect(hub, credentials.connectFields('twice'));
    const firstGone = closed(first);
    const second = await connect(hub, credentials.connectFields('twice'));
    await firstGone;
    const log: Received[] = [];
    second.on('message', (topic, payload) => log.push({ topic, payload }));
    assert.equal(await subscribe(second, '$iothub/twin/res/#', 0), 0);
    const twin = message(
      log,
      second,
      ({ topic }) => topic === '$iothub/twin/res/200/?$rid=again',
      'twin of twice',
    );
    second.publish('$iothub/twin/GET/?$rid=again', ' ', { qos: 0 });
    await twin;
    assert.ok(second.connected, 'the second connection is the one kept');
    await end(second);
    first.end(true);
    await stillServed();
  });

  test('a will is routed like telemetry with MessageType=Will when the connection drops', async () => {
    const willer = mqttClient(hub, {
      ...credentials.connectFields('willer'),
      will: {
        topic: `devices/${D}/modules/willer/messages/events/`,
        payload: 'last words',
        qos: 1,
        retain: false,
      },
    });
    await new Promise<void>((resolve, reject) => {
      willer.once('connect', () => resolve());
      willer.once('error', reject);
    });
    const will = message(
      goodLog,
      good,
      ({ topic }) => topic.startsWith(`devices/${D}/modules/good/inputs/will/`),
      'the will on good/inputs/will',
    );
    willer.stream.destroy();
    const received = await will;
    assert.equal(received.payload.toString(), 'last words');
    const bag = new URLSearchParams(received.topic.slice(`devices/${D}/modules/good/inputs/will/`.length));
    assert.equal(bag.get('MessageType'), 'Will', received.topic);
    assert.equal(bag.get('$.cmid'), 'willer', received.topic);
    willer.end(true);

    // a will on another identity's topic is not published, and a clean DISCONNECT drops the will
    const forger = mqttClient(hub, {
      ...credentials.connectFields('willer'),
      will: {
        topic: `devices/${D}/modules/sender/messages/events/`,
        payload: 'forged',
        qos: 1,
        retain: false,
      },
    });
    await new Promise<void>((resolve) => forger.once('connect', () => resolve()));
    forger.stream.destroy();
    const polite = await connect(hub, {
      ...credentials.connectFields('willer'),
      will: {
        topic: `devices/${D}/modules/willer/messages/events/`,
        payload: 'not said',
        qos: 1,
        retain: false,
      },
    });
    await end(polite);
    await stillServed();
    const wills = goodLog
      .filter(({ topic }) => topic.includes('/inputs/will/'))
      .map(({ payload }) => payload.toString());
    assert.deepEqual(wills, ['last words'], 'only the first will was routed');
    assert.ok(!goodLog.some(({ payload }) => payload.toString() === 'forged'));
  });

  test('a clean-session client gets at most 64 unacknowledged inputs; what it did not acknowledge comes again', async () => {
    const inputs = `devices/${D}/modules/lagger/#`;
    const seqOf = (payload: Buffer) => Number(payload.toString().split(' ')[1]);
    // a raw clean session that sends its PUBACKs only when told to
    const lagger = await rawSession(hub, credentials.connectFields('lagger'));
    const reader = new PublishReader();
    lagger.on('data', (chunk: Buffer) => reader.feed(chunk));
    lagger.write(subscribePacket(inputs));
    await eventually(
      async () => (daemon.output.includes('edge-1/lagger subscribed to module inputs') ? true : undefined),
      'the lagger to subscribe',
    );
    const feeder = await connect(hub, credentials.connectFields('feeder'));
    for (let seq = 0; seq < 100; seq++) {
      await publish(feeder, `devices/${D}/modules/feeder/messages/events/`, `seq ${seq}`, 1);
    }
    const seen = () => reader.publishes.map(({ payload }) => seqOf(payload));
    await eventually(async () => (seen().length >= 64 ? true : undefined), 'the first 64 deliveries');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(seen().length, 64, 'no more than the window while nothing is acknowledged');

    for (const { messageId } of reader.publishes.slice(0, 10)) lagger.write(pubackPacket(messageId));
    await eventually(async () => (seen().length >= 74 ? true : undefined), 'ten more after ten PUBACKs');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      seen(),
      Array.from({ length: 74 }, (_, seq) => seq),
      'in order, each once',
    );

    // gone without acknowledging 10..73: a new connection gets them again, then the rest
    lagger.destroy();
    await eventually(
      async () => (daemon.output.includes('edge-1/lagger disconnected') ? true : undefined),
      'the hub to see the lagger go',
    );
    const again = await connect(hub, { ...credentials.connectFields('lagger'), clean: true });
    const redelivered: number[] = [];
    again.on('message', (_topic, payload) => redelivered.push(seqOf(payload)));
    assert.equal(await subscribe(again, inputs, 1), 1);
    await eventually(async () => (redelivered.length >= 90 ? true : undefined), 'the 90 unacknowledged');
    assert.deepEqual(
      redelivered,
      Array.from({ length: 90 }, (_, index) => index + 10),
    );
    await end(again);
    await end(feeder);
    await stillServed();
  });

  test(
    'mosquitto_sub as a module receives what mosquitto_pub as another module sends through a route',
    {
      skip:
        hasCommand('mosquitto_sub') && hasCommand('mosquitto_pub')
          ? false
          : 'mosquitto_sub/mosquitto_pub not installed (Debian package mosquitto-clients)',
    },
    async () => {
      const cafile = path.join(daemon.dir, 'trust-bundle.pem');
      writeFileSync(cafile, hub.ca);
      const common = (module: string) => [
        '-h',
        HOSTNAME,
        '-p',
        String(hub.port),
        '--cafile',
        cafile,
        '-i',
        credentials.clientId(module),
        '-u',
        credentials.username(module),
        '-P',
        credentials.token(module),
        '-q',
        '1',
        '-V',
        'mqttv311',
      ];
      const sub = spawn('mosquitto_sub', [
        ...common('subber'),
        '-t',
        `devices/${D}/modules/subber/#`,
        '-v',
        '-d',
        '-C',
        '1',
        '-W',
        '30',
      ]);
      let subOutput = '';
      sub.stdout.on('data', (chunk) => (subOutput += chunk));
      sub.stderr.on('data', (chunk) => (subOutput += chunk));
      const subExited = new Promise<number | null>((resolve) => sub.once('exit', (code) => resolve(code)));
      // no need to wait for its SUBACK: the hub holds routed messages until subber subscribes
      const pub = spawn('mosquitto_pub', [
        ...common('pubber'),
        '-t',
        `devices/${D}/modules/pubber/messages/events/kind=mosquitto`,
        '-m',
        'hello from mosquitto',
      ]);
      let pubOutput = '';
      pub.stdout.on('data', (chunk) => (pubOutput += chunk));
      pub.stderr.on('data', (chunk) => (pubOutput += chunk));
      const pubCode = await new Promise<number | null>((resolve) =>
        pub.once('exit', (code) => resolve(code)),
      );
      assert.equal(pubCode, 0, pubOutput);

      assert.equal(await subExited, 0, subOutput);
      const line = subOutput
        .split('\n')
        .find((text) => text.startsWith(`devices/${D}/modules/subber/inputs/in/`));
      assert.ok(line, subOutput);
      assert.match(line, /kind=mosquitto/);
      assert.match(line, / hello from mosquitto$/);
      await stillServed();
    },
  );
});
