import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { ClientIdentity, ConnectionEvents } from '../../../../src/runtime/hub/connections.js';
import type { EdgeHub } from '../../../../src/runtime/hub/hub.js';
import { HubRequestError } from '../../../../src/runtime/hub/hub-request-error.js';
import { IdentityChannels } from '../../../../src/runtime/hub/upstream/identity-channels.js';
import type {
  ManagedChannel,
  ManagedChannelEvents,
} from '../../../../src/runtime/hub/upstream/managed-channel.js';

/** The parts of the hub the channels use, recording what they were asked. */
function fakeHub() {
  const listeners: Partial<ConnectionEvents>[] = [];
  const desired: [string, unknown][] = [];
  const c2d: [string, string][] = [];
  const gates: { current?: (id: string) => Promise<void> | undefined } = {};
  const hub = {
    deviceId: 'child-1',
    onClients: (listener: Partial<ConnectionEvents>) => listeners.push(listener),
    onReportedSaved: () => undefined,
    gateTwinReads: (gate: (id: string) => Promise<void> | undefined) => (gates.current = gate),
    reportedOf: () => ({}),
    setUpstreamDesired: (id: string, properties: unknown) => desired.push([id, properties]),
    invokeMethod: async (target: string, call: { methodName: string; payload: unknown }) => {
      if (call.methodName === 'slow')
        throw new HubRequestError(504, `${target} did not answer slow within 30 s`);
      if (target !== 'child-1/filter') throw new HubRequestError(404, `${target} is not connected`);
      return { status: 201, payload: { echo: call.payload } };
    },
    sendToDevice: async (deviceId: string, request: { body: Buffer }) => {
      c2d.push([deviceId, request.body.toString()]);
      return { messageId: 'm' };
    },
  };
  const emit = (event: keyof ConnectionEvents, identity: ClientIdentity) =>
    listeners.forEach((listener) => listener[event]?.(identity));
  return { hub: hub as unknown as EdgeHub, emit, desired, c2d, gates };
}

function fakeLink(online = true) {
  const managed: ManagedChannel[] = [];
  const released: string[] = [];
  return {
    link: {
      online,
      manage: (channel: ManagedChannel) => managed.push(channel),
      release: (channel: ManagedChannel) => released.push(channel.id),
    },
    managed,
    released,
  };
}

const events = (channel: ManagedChannel) => channel['events'] as ManagedChannelEvents;

describe("a child's modules and leaf devices managed from upstream", () => {
  test('a connected module gets a channel; methods are answered as the hub answers; desired goes into the hub', async () => {
    const { hub, emit, desired } = fakeHub();
    const { link, managed } = fakeLink();
    new IdentityChannels(hub, link, () => undefined, { desiredFromUpstream: true });
    emit('connected', { id: 'child-1/$edgeHub', deviceId: 'child-1', moduleId: '$edgeHub' });
    emit('connected', { id: 'child-1/filter', deviceId: 'child-1', moduleId: 'filter' });
    assert.deepEqual(
      managed.map((channel) => channel.id),
      ['child-1/filter'],
      "the hub's own identity is the link's",
    );
    const filter = events(managed[0]!);
    assert.equal(filter.c2d, undefined, 'a module gets no cloud-to-device messages');

    const answer = await filter.method!('set', Buffer.from('{"a":1}'));
    assert.deepEqual(
      { status: answer.status, payload: JSON.parse(answer.payload.toString()) },
      {
        status: 201,
        payload: { echo: { a: 1 } },
      },
    );
    const slow = await filter.method!('slow', Buffer.alloc(0));
    assert.equal(slow.status, 504);
    assert.match(JSON.parse(slow.payload.toString()).message, /did not answer slow/);

    filter.desired!({ threshold: 3, $version: 7 });
    assert.deepEqual(desired, [['child-1/filter', { threshold: 3, $version: 7 }]]);
  });

  test('a leaf device also gets its C2D; a channel closes after its client left, unless it came back', async () => {
    const { hub, emit, c2d } = fakeHub();
    const { link, managed, released } = fakeLink();
    new IdentityChannels(hub, link, () => undefined, { desiredFromUpstream: false, lingerMs: 50 });
    const leaf = { id: 'sensor7', deviceId: 'sensor7' };
    emit('connected', leaf);
    const channel = managed[0]!;
    assert.equal(events(channel).desired, undefined, 'ConfigSource local: desired properties are not taken');
    await events(channel).c2d!({ body: Buffer.from('hi'), properties: {}, systemProperties: {} });
    assert.deepEqual(c2d, [['sensor7', 'hi']]);
    const gone = await events(channel).method!('reboot', Buffer.alloc(0));
    assert.equal(gone.status, 404);

    emit('disconnected', leaf);
    emit('connected', leaf);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(released, [], 'back within the linger time: kept');
    assert.equal(managed.length, 1);
    emit('disconnected', leaf);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(released, ['sensor7']);
  });

  test("a module's twin read waits for its first read upstream: until desired came, at most the wait, not when offline", async () => {
    const settled = (promise: Promise<void> | undefined) =>
      Promise.race([promise?.then(() => true), new Promise((resolve) => setImmediate(() => resolve(false)))]);
    const { hub, emit, gates } = fakeHub();
    const { link, managed } = fakeLink();
    new IdentityChannels(hub, link, () => undefined, { desiredFromUpstream: true, firstReadWaitMs: 200 });
    emit('connected', { id: 'child-1/filter', deviceId: 'child-1', moduleId: 'filter' });
    const gate = gates.current!('child-1/filter');
    assert.ok(gate, 'a read waits while the link is up and nothing came yet');
    assert.equal(await settled(gate), false);
    events(managed[0]!).desired!({ threshold: 3, $version: 2 });
    assert.equal(await settled(gate), true, 'open once desired came down');
    assert.equal(gates.current!('child-1/filter'), undefined, 'later reads do not wait');

    emit('connected', { id: 'child-1/slow', deviceId: 'child-1', moduleId: 'slow' });
    const bounded = gates.current!('child-1/slow');
    assert.equal(await settled(bounded), false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await settled(bounded), true, 'open after the wait when upstream never answers');

    const offline = fakeHub();
    new IdentityChannels(offline.hub, fakeLink(false).link, () => undefined, { desiredFromUpstream: true });
    offline.emit('connected', { id: 'child-1/filter', deviceId: 'child-1', moduleId: 'filter' });
    assert.equal(offline.gates.current!('child-1/filter'), undefined, 'offline: the hub copy at once');
  });
});
