import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { parseEdgeHubDesired } from '../../../src/runtime/deployment/edgehub-desired.js';
import type { ClientIdentity } from '../../../src/runtime/hub/connections.js';
import { EdgeHub } from '../../../src/runtime/hub/hub.js';
import { IdentityRegistry } from '../../../src/runtime/hub/identities.js';
import type { ClientProxy, CloseReason } from '../../../src/runtime/hub/session/client-proxy.js';
import type { DeviceSession } from '../../../src/runtime/hub/session/device-session.js';
import { deriveModuleKey } from '../../../src/runtime/identity/module-keys.js';
import { buildSasToken } from '../../../src/runtime/identity/sas.js';
import { telemetrySource, type HubMessage } from '../../../src/runtime/routing/message.js';

/*
 * The hub core driven in-process through its session API, as any protocol head drives it, with
 * fake client proxies: no MQTT, no sockets, no iotedged.
 */

const DEVICE = 'edge-1';
const HUB_HOST = 'hub.example.net';
const DEVICE_KEY = Buffer.alloc(32, 7).toString('base64');
const GENERATIONS: Record<string, string> = { sender: '638000000000000001', receiver: '638000000000000002' };

/** A client whose acknowledgements the test gives by hand, recording what the hub sent it. */
class FakeProxy implements ClientProxy {
  readonly inputs: { input: string; body: string; ack(): void; fail(): void }[] = [];
  readonly desired: { patch: Record<string, unknown>; version: number }[] = [];
  readonly methods: { method: string; requestId: string; payload: string }[] = [];
  readonly closed: CloseReason[] = [];
  deliverInput(input: string, message: HubMessage): Promise<void> {
    return new Promise((resolve, reject) =>
      this.inputs.push({
        input,
        body: message.body.toString(),
        ack: resolve,
        fail: () => reject(new Error('gone')),
      }),
    );
  }
  deliverC2D(): Promise<void> {
    return Promise.reject(new Error('a module gets no cloud-to-device messages'));
  }
  sendDesiredPatch(patch: Record<string, unknown>, version: number): void {
    this.desired.push({ patch, version });
  }
  sendMethodRequest(method: string, requestId: string, payload: Buffer): void {
    this.methods.push({ method, requestId, payload: payload.toString() });
  }
  close(reason: CloseReason): void {
    this.closed.push(reason);
  }
}

function newHub(options: { inputWindow?: number; maxMessageBytes?: number } = {}): EdgeHub {
  const identities = new IdentityRegistry({
    deviceId: DEVICE,
    iothubHostname: HUB_HOST,
    edgeHostname: 'gateway.local',
    deviceKey: DEVICE_KEY,
    generationId: async (module) => GENERATIONS[module],
    now: () => new Date(),
  });
  const hub = new EdgeHub({ identities, log: () => undefined, ...options });
  const desired = parseEdgeHubDesired({
    schemaVersion: '1.1',
    routes: {
      warm: 'FROM /messages/modules/sender/outputs/out1 WHERE $body.temperature > 21 INTO BrokeredEndpoint("/modules/receiver/inputs/in1")',
    },
    storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
  });
  hub.applyDeployment(desired, { receiver: { threshold: 5 } });
  return hub;
}

const token = (module: string, expiry = Math.floor(Date.now() / 1000) + 3600) =>
  buildSasToken({
    audience: `${HUB_HOST}/devices/${DEVICE}/modules/${module}`,
    key: deriveModuleKey(DEVICE_KEY, module, 'primary', GENERATIONS[module]!),
    expiry,
  });

/** Authenticates a module as a head would, opens its session and attaches a fake proxy. */
async function connect(hub: EdgeHub, module: string, sas = token(module)) {
  const auth = await hub.authenticate(DEVICE, module, { sas });
  assert.ok(auth.ok, auth.ok ? '' : auth.reason);
  const session = hub.openSession(auth.identity, {
    sessionId: auth.identity.id,
    clean: true,
    ...(auth.expiresAt ? { expiresAt: auth.expiresAt } : {}),
  });
  const proxy = new FakeProxy();
  session.attach(proxy);
  return { session, proxy, identity: auth.identity };
}

const output = (identity: ClientIdentity, body: unknown): HubMessage => ({
  body: Buffer.from(JSON.stringify(body)),
  properties: {},
  // a body is read by route conditions only when it says it is UTF-8 JSON, as IoT Hub requires
  systemProperties: {
    connectionDeviceId: identity.deviceId,
    connectionModuleId: identity.moduleId,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
  },
  source: telemetrySource(identity.moduleId, 'out1'),
});

const flush = () => new Promise((resolve) => setImmediate(resolve));

async function sendAll(session: DeviceSession, identity: ClientIdentity, temperatures: number[]) {
  for (const temperature of temperatures) await session.send(output(identity, { temperature }));
}

describe('the hub core through its session API', () => {
  test('wrong credentials are refused; a module key for another module is refused', async () => {
    const hub = newHub();
    const wrong = await hub.authenticate(DEVICE, 'sender', { sas: token('receiver') });
    assert.equal(wrong.ok, false);
    const unknown = await hub.authenticate(DEVICE, 'nobody', { sas: token('sender') });
    assert.equal(unknown.ok, false);
  });

  test('outputs are routed by condition to the subscribed input, in order, within the window', async () => {
    const hub = newHub({ inputWindow: 2 });
    const sender = await connect(hub, 'sender');
    const receiver = await connect(hub, 'receiver');
    await sendAll(sender.session, sender.identity, [20, 22, 23, 24]);
    assert.equal(receiver.proxy.inputs.length, 0, 'nothing before the inputs subscription');

    assert.equal(await receiver.session.subscribe('inputs'), true);
    assert.deepEqual(
      receiver.proxy.inputs.map((input) => input.body),
      ['{"temperature":22}', '{"temperature":23}'],
      'the condition keeps 20 out; two in flight at most',
    );
    receiver.proxy.inputs[0]!.ack();
    await flush();
    assert.deepEqual(
      receiver.proxy.inputs.map((input) => input.body),
      ['{"temperature":22}', '{"temperature":23}', '{"temperature":24}'],
    );
  });

  test('what a dropped connection did not acknowledge comes again, in order, to the next one', async () => {
    const hub = newHub({ inputWindow: 2 });
    const sender = await connect(hub, 'sender');
    const first = await connect(hub, 'receiver');
    await first.session.subscribe('inputs');
    await sendAll(sender.session, sender.identity, [30, 31, 32]);
    for (const input of first.proxy.inputs) input.fail();
    first.session.detach();
    await flush();

    const second = await connect(hub, 'receiver');
    await second.session.subscribe('inputs');
    assert.deepEqual(
      second.proxy.inputs.map((input) => input.body),
      ['{"temperature":30}', '{"temperature":31}'],
    );
  });

  test('statusReport: routes in effect, clients with protocol and since, counters', async () => {
    const hub = newHub({ inputWindow: 2 });
    const before = Date.now();
    const sender = await connect(hub, 'sender');
    const auth = await hub.authenticate(DEVICE, 'receiver', { sas: token('receiver') });
    assert.ok(auth.ok);
    const session = hub.openSession(auth.identity, { sessionId: 'r', clean: true, protocol: 'AMQP-WS' });
    const proxy = new FakeProxy();
    session.attach(proxy);
    await session.subscribe('inputs');
    await sendAll(sender.session, sender.identity, [20, 22, 23]);
    proxy.inputs[0]!.ack();
    await flush();

    const report = hub.statusReport();
    assert.deepEqual(report.routes, [
      {
        name: 'warm',
        route:
          'FROM /messages/modules/sender/outputs/out1 WHERE $body.temperature > 21 INTO BrokeredEndpoint("/modules/receiver/inputs/in1")',
        priority: null,
        timeToLiveSecs: 0,
      },
    ]);
    assert.deepEqual(
      report.clients.map((client) => [client.id, client.protocol]),
      [
        [`${DEVICE}/receiver`, 'AMQP-WS'],
        [`${DEVICE}/sender`, null],
      ],
    );
    assert.ok(Date.parse(report.clients[0]!.connectedSince!) >= before - 1000);
    assert.deepEqual(report.counters, {
      received: 3,
      routed: 2,
      unrouted: 1,
      delivered: 1,
      expired: 0,
      evicted: 0,
    });
    session.detach();
    assert.deepEqual(
      hub.statusReport().clients.map((client) => client.id),
      [`${DEVICE}/sender`],
      'a client that left is no longer listed',
    );
  });

  test('a second connection of an identity replaces the first', async () => {
    const hub = newHub();
    const first = await connect(hub, 'receiver');
    await connect(hub, 'receiver');
    assert.deepEqual(first.proxy.closed, ['replaced']);
  });

  test('twins: desired from the deployment, a valid reported patch 204 with its version, an invalid one 400', async () => {
    const hub = newHub();
    const receiver = await connect(hub, 'receiver');
    const twin = (await receiver.session.getTwin()) as {
      status: number;
      body: { desired: Record<string, unknown> };
    };
    assert.equal(twin.status, 200);
    assert.equal(twin.body.desired.threshold, 5);

    const ok = await receiver.session.patchReported(Buffer.from('{"ready":true}'));
    assert.equal(ok.status, 204);
    assert.equal(typeof ok.version, 'number');
    const notJson = await receiver.session.patchReported(Buffer.from('{nope'));
    assert.deepEqual(notJson, { status: 400, body: { errorCode: 400004, message: 'the body is not JSON' } });

    await receiver.session.subscribe('desired');
    hub.applyDeployment(undefined, { receiver: { threshold: 7 } });
    assert.equal(
      receiver.proxy.desired.at(-1)?.patch.threshold,
      7,
      'a subscribed client hears a desired change',
    );
  });

  test('a desired change between the twin read and the subscription is heard when the client subscribes', async () => {
    const hub = newHub();
    const receiver = await connect(hub, 'receiver');
    await receiver.session.getTwin();
    hub.applyDeployment(undefined, { receiver: { threshold: 8 } });
    assert.equal(receiver.proxy.desired.length, 0, 'not subscribed yet: nothing sent');
    await receiver.session.subscribe('desired');
    assert.deepEqual(
      receiver.proxy.desired.map((change) => change.patch),
      [{ threshold: 8 }],
      'the difference from what it read, once',
    );
    await receiver.session.subscribe('desired');
    assert.equal(receiver.proxy.desired.length, 1, 'subscribing again sends nothing new');
  });

  test('a twin read waits for what the read gate returns, and reads the twin after it', async () => {
    const hub = newHub();
    const receiver = await connect(hub, 'receiver');
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    hub.gateTwinReads((id) => (id === `${DEVICE}/receiver` ? gate : undefined));
    let answered: { body?: unknown } | undefined;
    const reading = receiver.session.getTwin().then((reply) => (answered = reply));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(answered, undefined, 'held while the gate is closed');
    hub.applyDeployment(undefined, { receiver: { threshold: 9 } });
    open();
    const reply = await reading;
    assert.equal((reply.body as { desired: { threshold: number } }).desired.threshold, 9);
  });

  test('direct methods: the call reaches the subscribed module and its answer comes back', async () => {
    const hub = newHub();
    const receiver = await connect(hub, 'receiver');
    await assert.rejects(
      hub.invokeMethod(`${DEVICE}/receiver`, {
        methodName: 'ping',
        payload: {},
        responseTimeoutInSeconds: 5,
      }),
      /not connected or not listening/,
    );
    await receiver.session.subscribe('methods');
    const call = hub.invokeMethod(`${DEVICE}/receiver`, {
      methodName: 'ping',
      payload: { a: 1 },
      responseTimeoutInSeconds: 5,
    });
    await flush();
    const request = receiver.proxy.methods[0]!;
    assert.deepEqual(
      { method: request.method, payload: request.payload },
      { method: 'ping', payload: '{"a":1}' },
    );
    receiver.session.answerMethod(request.requestId, 200, Buffer.from('{"pong":true}'));
    assert.deepEqual(await call, { status: 200, payload: { pong: true } });
  });

  test('a message over the size limit is refused and goes nowhere', async () => {
    const hub = newHub({ maxMessageBytes: 1024 });
    const sender = await connect(hub, 'sender');
    const receiver = await connect(hub, 'receiver');
    await receiver.session.subscribe('inputs');
    await assert.rejects(
      sender.session.send(output(sender.identity, { temperature: 40, pad: 'x'.repeat(2000) })),
      /over the 1024-byte limit/,
    );
    assert.equal(receiver.proxy.inputs.length, 0);
  });

  test('a connection ends when its SAS token expires, and the client is told why', async () => {
    const hub = newHub();
    const expiring = await connect(hub, 'sender', token('sender', Math.floor(Date.now() / 1000) + 1));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(expiring.proxy.closed, ['expired']);
  });

  test('a token renewed on the same connection (AMQP put-token) moves the end to its expiry', async () => {
    const hub = newHub();
    const renewed = await connect(hub, 'sender', token('sender', Math.floor(Date.now() / 1000) + 1));
    renewed.session.renew(new Date(Date.now() + 3600_000));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(renewed.proxy.closed, [], 'the first token expired, the renewed one holds');
    renewed.session.renew(new Date(Date.now() + 200));
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.deepEqual(renewed.proxy.closed, ['expired']);
  });
});
