import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';

import { parseSasToken } from '../../../../src/runtime/identity/sas.js';
import {
  UpstreamConnectionError,
  type UpstreamChannel,
  type UpstreamConnectionOptions,
} from '../../../../src/runtime/hub/upstream/upstream-connection.js';
import { UpstreamLink } from '../../../../src/runtime/hub/upstream/upstream-link.js';
import { ManagedChannel } from '../../../../src/runtime/hub/upstream/managed-channel.js';
import { mergePatch, type TwinObject } from '../../../../src/runtime/hub/twin/twin-json.js';
import { ReportedMirror } from '../../../../src/runtime/hub/upstream/reported-mirror.js';
import type { HubMessage } from '../../../../src/runtime/routing/message.js';

/** A connection that accepts or refuses its CONNECT and acknowledges or fails publishes, as told. */
class FakeChannel implements UpstreamChannel {
  readonly ready: Promise<void>;
  closed = false;
  idle = true;
  lastUsed = Date.now();
  readonly published: string[] = [];
  readonly subscriptions: string[] = [];
  /** What the upstream answers a publish with (topic and body of each reply). */
  answer: ((topic: string, body: Buffer) => [string, Buffer][]) | undefined;
  private readonly messageListeners: ((topic: string, payload: Buffer) => void)[] = [];
  /** What the next publish does: undefined acknowledges. */
  publishFailure: UpstreamConnectionError | undefined;
  private listeners: ((error: UpstreamConnectionError) => void)[] = [];

  constructor(
    readonly options: UpstreamConnectionOptions,
    refusal?: UpstreamConnectionError,
  ) {
    this.ready = refusal ? Promise.reject(refusal) : Promise.resolve();
    this.ready.catch(() => this.close(refusal?.message));
    if (refusal) this.publishFailure = refusal;
  }

  onClose(listener: (error: UpstreamConnectionError) => void): void {
    this.listeners.push(listener);
  }

  async publish(topic: string, body: Buffer = Buffer.alloc(0)): Promise<void> {
    await this.ready.catch(() => undefined);
    if (this.publishFailure) throw this.publishFailure;
    this.published.push(topic);
    for (const [replyTopic, replyBody] of this.answer?.(topic, body) ?? [])
      setImmediate(() => this.deliver(replyTopic, replyBody));
  }

  async subscribe(filters: string[]): Promise<void> {
    await this.ready;
    this.subscriptions.push(...filters);
  }

  onMessage(listener: (topic: string, payload: Buffer) => void): void {
    this.messageListeners.push(listener);
  }

  /** The upstream sends this connection a message. */
  deliver(topic: string, payload: Buffer): void {
    for (const listener of this.messageListeners) listener(topic, payload);
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.listeners.splice(0)) listener(new UpstreamConnectionError(reason, false));
  }
}

const KEY = Buffer.alloc(32, 4).toString('base64');
const message = (deviceId: string, moduleId?: string): HubMessage => ({
  body: Buffer.from('x'),
  properties: { seq: '1' },
  systemProperties: { connectionDeviceId: deviceId, ...(moduleId ? { connectionModuleId: moduleId } : {}) },
  source: '/messages',
});

function harness(
  options: {
    refuse?: (clientId: string) => UpstreamConnectionError | undefined;
    key?: string;
    onDemand?: boolean;
    kind?: 'parent' | 'iothub';
    /** Told of each connection made. */
    made?: (channel: FakeChannel) => void;
  } = {},
) {
  const channels: FakeChannel[] = [];
  const events: string[] = [];
  const endpoint = { pending: 0, attach: () => events.push('attach'), detach: () => events.push('detach') };
  const log: string[] = [];
  const refusedIds: string[] = [];
  const link = new UpstreamLink({
    address: { kind: options.kind ?? 'parent', host: '127.0.0.1', port: 18883 },
    iothubHostname: 'hub.example.net',
    edgeDeviceId: 'child-1',
    ...('key' in options
      ? options.key === undefined
        ? {}
        : { edgeHubKey: options.key }
      : { edgeHubKey: KEY }),
    productInfo: 'test',
    endpoint,
    onDemand: options.onDemand ?? false,
    log: (line) => log.push(line),
    random: () => 0,
    onIdentityRefused: (id) => refusedIds.push(id),
    connect: (connection) => {
      const channel = new FakeChannel(connection, options.refuse?.(connection.clientId));
      channels.push(channel);
      options.made?.(channel);
      return channel;
    },
  });
  return { link, channels, events, log, endpoint, refusedIds };
}

const settle = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` holds (the link's timers run late on a busy machine); fails naming `what`. */
async function until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await settle(5);
  }
}

describe('the upstream link', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  test('connects as its own $edgeHub, attaches, and sends each message as its origin on behalf of it', async () => {
    const { link, channels, events } = harness();
    stop = () => link.stop();
    link.start();
    await settle();
    assert.deepEqual(events, ['attach']);
    assert.equal(link.status().connected, true);
    assert.equal(channels[0].options.clientId, 'child-1/$edgeHub');
    assert.doesNotMatch(channels[0].options.username, /auth-chain/);

    await link.deliver(message('child-1', 'sensor'));
    await link.deliver(message('leaf-a'));
    await link.deliver(message('child-1', 'sensor'));
    assert.deepEqual(
      channels.map((channel) => [channel.options.clientId, channel.published.length]),
      [
        ['child-1/$edgeHub', 0],
        ['child-1/sensor', 2],
        ['leaf-a', 1],
      ],
      'one connection per identity, reused',
    );
    assert.match(channels[1].options.username, /&auth-chain=child-1%2Fsensor%3Bchild-1$/);
    assert.equal(
      parseSasToken(channels[1].options.password).audience,
      'hub.example.net/devices/child-1/modules/$edgeHub',
      'every connection presents the hub’s own token',
    );
    assert.ok(channels[1].published[0].startsWith('devices/child-1/modules/sensor/messages/events/'));
    assert.equal(link.status().connections, 3);
  });

  test('a failed delivery rejects (the endpoint keeps the message), detaches, closes all, and reconnects', async () => {
    const { link, channels, events, log } = harness();
    stop = () => link.stop();
    link.start();
    await settle();
    await link.deliver(message('child-1', 'sensor'));
    channels[1].publishFailure = new UpstreamConnectionError('connection closed', false);
    await assert.rejects(link.deliver(message('child-1', 'sensor')), /connection closed/);
    assert.deepEqual(events, ['attach', 'detach']);
    assert.ok(channels.every((channel) => channel.closed));
    const offline = link.status();
    assert.equal(offline.connected, false);
    assert.equal(offline.lastError, 'connection closed');
    assert.match(log.at(-1)!, /127\.0\.0\.1:18883 lost: connection closed; next attempt in 0\.5 s/);

    await until(() => events.length === 3, 'the link to reconnect');
    assert.deepEqual(events, ['attach', 'detach', 'attach'], 'attached again once reconnected');
    assert.equal(link.status().connected, true);
    await link.deliver(message('child-1', 'sensor'));
    assert.equal(channels.at(-1)!.published.length, 1, 'a new connection carries the next message');
  });

  test('an origin the upstream refuses is dropped and counted, and said once; the link stays up', async () => {
    const refusal = new UpstreamConnectionError('Connection refused: Not authorized', true);
    const { link, channels, events, log, refusedIds } = harness({
      refuse: (id) => (id === 'stranger' ? refusal : undefined),
    });
    stop = () => link.stop();
    link.start();
    await settle();
    await link.deliver(message('stranger'));
    assert.deepEqual(events, ['attach']);
    assert.equal(link.status().refused, 1);
    assert.match(
      log.at(-1)!,
      /refused stranger \(Connection refused: Not authorized\); its messages are dropped/,
    );
    const connects = channels.length;
    await link.deliver(message('stranger'));
    await link.deliver(message('stranger'));
    assert.equal(channels.length, connects, 'no new CONNECT for an identity refused moments ago');
    assert.equal(link.status().refused, 3);
    assert.deepEqual(refusedIds, ['stranger'], 'the refusal is said once, not for each message dropped');
    await link.deliver(message('child-1', 'sensor'));
    assert.equal(channels.at(-1)!.options.clientId, 'child-1/sensor', 'others go on');
  });

  test("an identity's connection closed by the upstream under a publish: sent again on a new one, the link stays up", async () => {
    const { link, channels, events } = harness();
    stop = () => link.stop();
    link.start();
    await settle();
    await link.deliver(message('leaf-x'));
    const first = channels.at(-1)!;
    first.publish = async () => {
      first.close('closed by the upstream');
      throw new UpstreamConnectionError('closed by the upstream', false);
    };
    await link.deliver(message('leaf-x'));
    const second = channels.at(-1)!;
    assert.notEqual(second, first, 'a new connection');
    assert.equal(second.options.clientId, 'leaf-x');
    assert.equal(second.published.length, 1);
    assert.deepEqual(events, ['attach'], 'the link never went down');
  });

  test('a second failure of that kind takes the link down as any failure does', async () => {
    /** Every connection of leaf-x closes under its first publish. */
    const closing = (channel: FakeChannel) => {
      if (channel.options.clientId !== 'leaf-x') return;
      channel.publish = async () => {
        channel.close('closed by the upstream');
        throw new UpstreamConnectionError('closed by the upstream', false);
      };
    };
    const { link, events } = harness({ made: closing });
    stop = () => link.stop();
    link.start();
    await settle();
    await assert.rejects(link.deliver(message('leaf-x')), /closed by the upstream/);
    assert.deepEqual(events, ['attach', 'detach']);
  });

  test('a refused $edgeHub keeps the link offline with the reason, trying again', async () => {
    const refusal = new UpstreamConnectionError('Connection refused: Not authorized', true);
    const { link, events } = harness({ refuse: () => refusal });
    stop = () => link.stop();
    link.start();
    await settle();
    assert.deepEqual(events, ['detach']);
    const status = link.status();
    assert.equal(status.connected, false);
    assert.equal(status.lastError, 'Connection refused: Not authorized');
    assert.equal(status.target, '127.0.0.1:18883');
  });

  test('without a device key there is nothing to sign with: offline, saying why', async () => {
    const { link, channels } = harness({ key: undefined });
    stop = () => link.stop();
    link.start();
    assert.equal(channels.length, 0);
    assert.equal(
      link.status().lastError,
      'this device has no symmetric key to sign its $edgeHub tokens with',
    );
  });

  test('on demand (IoT Hub): no connection until a message waits', async () => {
    const { link, channels, events, endpoint } = harness({ onDemand: true });
    stop = () => link.stop();
    link.start();
    await settle(1_200);
    assert.equal(channels.length, 0);
    assert.equal(link.status().lastError, 'not tried yet: no message waits to go up');
    endpoint.pending = 1;
    await until(() => events.length > 0, 'the link to connect once a message waits');
    assert.deepEqual(events, ['attach']);
    assert.equal(channels[0].options.clientId, 'child-1/$edgeHub');
  });

  test("a parent gets a wider window of messages in flight than IoT Hub, which keeps the endpoint's", () => {
    const parent = harness().link;
    const iothub = harness({ kind: 'iothub' }).link;
    stop = () => {
      parent.stop();
      iothub.stop();
    };
    assert.equal(parent.window, 256);
    assert.equal(iothub.window, undefined);
  });
});

/** A parent's answers to a device's twin requests: GET gives `twin`, PATCH merges and gives the version. */
function twinServer(twin: { desired: Record<string, unknown>; reported: Record<string, unknown> }) {
  const patches: Record<string, unknown>[] = [];
  const answer = (topic: string, body: Buffer): [string, Buffer][] => {
    const rid = /\$rid=([^&]+)/.exec(topic)?.[1] ?? '';
    if (topic.startsWith('$iothub/twin/GET/'))
      return [[`$iothub/twin/res/200/?$rid=${rid}`, Buffer.from(JSON.stringify(twin))]];
    if (topic.startsWith('$iothub/twin/PATCH/properties/reported/')) {
      const patch = JSON.parse(body.toString()) as Record<string, unknown>;
      patches.push(patch);
      twin.reported = {
        ...mergePatch(twin.reported as TwinObject, patch as TwinObject),
        $version: (twin.reported.$version as number) + 1,
      };
      return [
        [`$iothub/twin/res/204/?$rid=${rid}&$version=${twin.reported.$version as number}`, Buffer.alloc(0)],
      ];
    }
    return [];
  };
  return { answer, patches, twin };
}

/** Every connection the link makes answers twin requests with `answer`. */
function answerTwins(link: UpstreamLink, answer: FakeChannel['answer']): void {
  const original = link['connectionFor'].bind(link);
  link['connectionFor'] = (identity) => {
    const connection = original(identity);
    (connection as FakeChannel).answer = answer;
    return connection;
  };
}

describe('managed channels on the upstream link', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  test('a managed identity subscribes, reads its twin on every connection and hears desired patches in order', async () => {
    const { link, channels } = harness();
    stop = () => link.stop();
    const server = twinServer({ desired: { a: 1, $version: 3 }, reported: { $version: 1 } });
    const desired: unknown[] = [];
    const channel = new ManagedChannel(
      { deviceId: 'child-1', moduleId: '$edgeAgent' },
      { desired: (properties) => desired.push(properties) },
      () => undefined,
    );
    answerTwins(link, server.answer);
    link.manage(channel);
    link.start();
    await until(() => desired.length > 0, 'the twin read on connecting');
    const agent = channels.find((c) => c.options.clientId === 'child-1/$edgeAgent');
    assert.ok(agent, 'the managed identity has a connection of its own');
    assert.match(agent.options.username, /auth-chain=child-1%2F%24edgeAgent%3Bchild-1/);
    assert.deepEqual(desired, [{ a: 1, $version: 3 }]);
    server.twin.desired = { a: 5, $version: 4 };
    channels[0].close('parent restarted');
    await until(() => (desired.at(-1) as { a?: number }).a === 5, 'the twin read again after reconnecting');
    const again = channels.filter((c) => c.options.clientId === 'child-1/$edgeAgent').at(-1)!;
    assert.notEqual(again, agent, 'a new connection after the link came back');
    assert.deepEqual(desired.at(-1), { a: 5, $version: 4 }, 'the whole twin read again');
    server.twin.desired = { a: 1, $version: 3 };
    channel.detach('test');
    await channel.attach(again);
    assert.deepEqual(agent.subscriptions, [
      '$iothub/twin/res/#',
      '$iothub/twin/PATCH/properties/desired/#',
      '$iothub/methods/POST/#',
    ]);
    assert.deepEqual(desired.at(-1), { a: 1, $version: 3 });
    const heard = desired.length;
    again.deliver('$iothub/twin/PATCH/properties/desired/?$version=3', Buffer.from('{"a":2,"$version":3}'));
    assert.equal(desired.length, heard, 'a patch the twin already holds is ignored');
    again.deliver(
      '$iothub/twin/PATCH/properties/desired/?$version=4',
      Buffer.from('{"b":{"c":true},"$version":4}'),
    );
    assert.deepEqual(desired.at(-1), { a: 1, b: { c: true }, $version: 4 });
    assert.deepEqual(channel.desired, { a: 1, b: { c: true }, $version: 4 });
  });

  test('a method from upstream is answered with its status and payload; a device also subscribes to C2D', async () => {
    const { link, channels } = harness();
    stop = () => link.stop();
    link.start();
    await settle();
    const server = twinServer({ desired: { $version: 1 }, reported: { $version: 1 } });
    const c2d: string[] = [];
    const channel = new ManagedChannel(
      { deviceId: 'leaf-a' },
      {
        method: async (name, payload) => ({
          status: 201,
          payload: Buffer.from(`${name}:${payload.toString()}`),
        }),
        c2d: async (message) => void c2d.push(`${message.body.toString()} ${message.properties.k}`),
      },
      () => undefined,
    );
    answerTwins(link, server.answer);
    link.manage(channel);
    await until(() => channel.online, 'the leaf identity online upstream');
    const leaf = channels.find((c) => c.options.clientId === 'leaf-a')!;
    assert.ok(channel.online);
    assert.ok(leaf.subscriptions.includes('devices/leaf-a/messages/devicebound/#'));
    leaf.deliver('$iothub/methods/POST/reboot/?$rid=7', Buffer.from('"now"'));
    leaf.deliver('devices/leaf-a/messages/devicebound/k=v', Buffer.from('hello'));
    await until(
      () => leaf.published.includes('$iothub/methods/res/201/?$rid=7') && c2d.length > 0,
      'the method answer and the C2D message',
    );
    assert.ok(leaf.published.includes('$iothub/methods/res/201/?$rid=7'));
    assert.deepEqual(c2d, ['hello v']);

    link.release(channel);
    assert.equal(leaf.closed, true, 'a released identity closes its connection');
    assert.equal(channel.online, false);
  });

  test('the reported mirror sends only what upstream lacks, nothing while offline, and the merged rest on reconnecting', async () => {
    const { link, channels } = harness();
    stop = () => link.stop();
    const server = twinServer({ desired: { $version: 1 }, reported: { old: 1, kept: 'x', $version: 5 } });
    let state: Record<string, unknown> = { kept: 'x', status: 'running' };
    const events: { connected?: (twin: { reported: TwinObject }) => void } = {};
    const channel = new ManagedChannel(
      { deviceId: 'child-1', moduleId: '$edgeHub' },
      { connected: (twin) => events.connected?.(twin) },
      () => undefined,
    );
    const mirror = new ReportedMirror(
      channel,
      () => state as never,
      () => undefined,
    );
    events.connected = (twin) => mirror.connected(twin.reported);
    answerTwins(link, server.answer);
    link.manage(channel);
    link.start();
    await until(() => server.patches.length > 0, 'the first reported patch');
    assert.deepEqual(server.patches, [{ old: null, status: 'running' }], 'the difference against upstream');
    state = { kept: 'x', status: 'running', n: 1 };
    await mirror.sync();
    assert.deepEqual(server.patches.at(-1), { n: 1 });
    await mirror.sync();
    assert.equal(server.patches.length, 2, 'nothing changed: nothing sent');

    channels[0].close('parent gone');
    state = { kept: 'y', status: 'running', n: 3 };
    await mirror.sync();
    state = { kept: 'y', status: 'stopped', n: 3 };
    await mirror.sync();
    assert.equal(server.patches.length, 2, 'offline: nothing sent');
    await until(() => server.patches.length > 2, 'a patch after reconnecting');
    assert.deepEqual(server.patches.at(-1), { kept: 'y', status: 'stopped', n: 3 }, 'one merged patch');
  });

  test('a reported patch upstream refuses (4xx) is not sent again until the state changes', async () => {
    const { link } = harness();
    stop = () => link.stop();
    const server = twinServer({ desired: { $version: 1 }, reported: { $version: 1 } });
    let refusals = 0;
    const refusing: FakeChannel['answer'] = (topic, body) => {
      if (!topic.startsWith('$iothub/twin/PATCH/')) return server.answer(topic, body);
      refusals += 1;
      const rid = /\$rid=([^&]+)/.exec(topic)?.[1] ?? '';
      return [[`$iothub/twin/res/400/?$rid=${rid}`, Buffer.from('{"message":"too deep"}')]];
    };
    let state: Record<string, unknown> = { deep: 1 };
    const log: string[] = [];
    const channel = new ManagedChannel({ deviceId: 'child-1', moduleId: '$edgeAgent' }, {}, () => undefined);
    const mirror = new ReportedMirror(
      channel,
      () => state as never,
      (line) => log.push(line),
    );
    answerTwins(link, refusing);
    link.manage(channel);
    link.start();
    await until(() => channel.online, 'the agent identity online upstream');
    mirror.connected({ $version: 1 } as never);
    await mirror.sync();
    await mirror.sync();
    await mirror.sync();
    assert.equal(refusals, 1);
    assert.match(log[0], /reported properties not sent: .*answered 400/);
    state = { deep: 2 };
    await mirror.sync();
    assert.equal(refusals, 2, 'a new state is tried');
  });

  test('a connection that ends while a twin request is still being published fails it without an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const connection = new FakeChannel({ clientId: 'child-1/$edgeAgent' } as UpstreamConnectionOptions);
      // the PUBACK of the GET never comes
      connection.publish = () => new Promise<void>(() => undefined);
      const channel = new ManagedChannel(
        { deviceId: 'child-1', moduleId: '$edgeAgent' },
        {},
        () => undefined,
      );
      const attached = channel.attach(connection);
      await settle(10);
      channel.detach('the parent went away');
      await settle(10);
      assert.deepEqual(unhandled, []);
      assert.equal(channel.online, false);
      void attached;
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('a managed identity whose lone connection closed is attached once when the link also comes back', async () => {
    const { link, channels } = harness();
    stop = () => link.stop();
    const server = twinServer({ desired: { $version: 1 }, reported: { $version: 1 } });
    let attaches = 0;
    const channel = new ManagedChannel(
      { deviceId: 'child-1', moduleId: '$edgeAgent' },
      { connected: () => void attaches++ },
      () => undefined,
    );
    answerTwins(link, server.answer);
    link.manage(channel);
    link.start();
    await until(() => attaches > 0, 'the agent identity attached');
    assert.equal(attaches, 1);
    // the parent closes the agent's connection first (its retry waits 2 s), then the link's
    channels.find((c) => c.options.clientId === 'child-1/$edgeAgent')!.close('parent stopping');
    channels[0].close('parent stopping');
    // past the agent's own retry (2 s), so that a second attachment would show
    await settle(2_500);
    await until(() => channel.online, 'the agent identity online again');
    const agentConnections = channels.filter((c) => c.options.clientId === 'child-1/$edgeAgent');
    assert.equal(agentConnections.filter((c) => !c.closed).length, 1, 'one live connection for the identity');
    assert.equal(attaches, 2, 'read once per connection');
  });
});
