import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';

import { parseSasToken } from '../../../../src/runtime/identity/sas.js';
import {
  UpstreamConnectionError,
  type UpstreamChannel,
  type UpstreamConnectionOptions,
} from '../../../../src/runtime/hub/upstream/upstream-connection.js';
import { UpstreamLink } from '../../../../src/runtime/hub/upstream/upstream-link.js';
import type { HubMessage } from '../../../../src/runtime/routing/message.js';

/** A connection that accepts or refuses its CONNECT and acknowledges or fails publishes, as told. */
class FakeChannel implements UpstreamChannel {
  readonly ready: Promise<void>;
  closed = false;
  idle = true;
  lastUsed = Date.now();
  readonly published: string[] = [];
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

  async publish(topic: string): Promise<void> {
    await this.ready.catch(() => undefined);
    if (this.publishFailure) throw this.publishFailure;
    this.published.push(topic);
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
  } = {},
) {
  const channels: FakeChannel[] = [];
  const events: string[] = [];
  const endpoint = { pending: 0, attach: () => events.push('attach'), detach: () => events.push('detach') };
  const log: string[] = [];
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
    connect: (connection) => {
      const channel = new FakeChannel(connection, options.refuse?.(connection.clientId));
      channels.push(channel);
      return channel;
    },
  });
  return { link, channels, events, log, endpoint };
}

const settle = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

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

    await settle(700);
    assert.deepEqual(events, ['attach', 'detach', 'attach'], 'attached again once reconnected');
    assert.equal(link.status().connected, true);
    await link.deliver(message('child-1', 'sensor'));
    assert.equal(channels.at(-1)!.published.length, 1, 'a new connection carries the next message');
  });

  test('an origin the upstream refuses is dropped and counted; the link stays up', async () => {
    const refusal = new UpstreamConnectionError('Connection refused: Not authorized', true);
    const { link, channels, events, log } = harness({
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
    await link.deliver(message('child-1', 'sensor'));
    assert.equal(channels.at(-1)!.options.clientId, 'child-1/sensor', 'others go on');
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
    await settle(1_200);
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
