import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ConnectionRegistry,
  type ClientLink,
  type Subscription,
} from '../../../src/runtime/hub/connections.js';
import { MemoryMessageStore } from '../../../src/runtime/hub/endpoints/memory-store.js';
import { ModuleInputEndpoint } from '../../../src/runtime/hub/endpoints/module-input.js';
import { PriorityQueue } from '../../../src/runtime/hub/endpoints/priority-queue.js';
import { UpstreamEndpoint } from '../../../src/runtime/hub/endpoints/upstream.js';
import type { HubMessage } from '../../../src/runtime/routing/message.js';

const message = (text: string): HubMessage => ({
  body: Buffer.from(text),
  properties: {},
  systemProperties: {},
  source: '/messages',
});

test('the highest priority is served first, FIFO within one; expired messages are dropped', () => {
  let now = 0;
  const queue = new PriorityQueue(() => now);
  queue.push(message('low'), { priority: 5, timeToLiveSecs: 100 });
  queue.push(message('high-1'), { priority: 0, timeToLiveSecs: 100 });
  queue.push(message('short'), { priority: 0, timeToLiveSecs: 1 });
  queue.push(message('high-2'), { priority: 0, timeToLiveSecs: 100 });
  now = 1000;
  const order: string[] = [];
  for (let next = queue.take(); next; next = queue.take()) order.push(next.message.body.toString());
  assert.deepEqual(order, ['high-1', 'high-2', 'low']);
  assert.equal(queue.expired, 1);
  assert.equal(queue.size, 0);
});

test('a queue nobody takes from lets its messages go at their TTL as new ones arrive', () => {
  let now = 0;
  const expired: string[] = [];
  const observer = {
    delivered: () => undefined,
    dropped: (m: HubMessage) => expired.push(m.body.toString()),
  };
  const upstream = new UpstreamEndpoint(
    new MemoryMessageStore(
      (m) => observer.dropped(m),
      () => now,
    ),
    observer,
    () => now,
  );
  // ten seconds at 100 msg/s with a TTL of 2 s and no upstream attached: what is held stays near 2 s worth
  let most = 0;
  for (let tick = 0; tick < 1000; tick++) {
    now = tick * 10;
    void upstream.enqueue(message(`m${tick}`), { priority: 0, timeToLiveSecs: 2 });
    most = Math.max(most, upstream.pending);
  }
  assert.ok(most <= 300, `held ${most} messages, more than 3 s worth`);
  assert.equal(expired.length + upstream.pending, 1000, 'every message is either held or expired');
  assert.deepEqual(expired.slice(0, 2), ['m0', 'm1'], 'the oldest go first, counted as expired');
});

test('$upstream keeps a copy of a body that was a view into a larger buffer, not the buffer', async () => {
  const chunk = Buffer.from('....hello....');
  const store = new MemoryMessageStore();
  const upstream = new UpstreamEndpoint(store);
  await upstream.enqueue({ ...message(''), body: chunk.subarray(4, 9) }, { priority: 0, timeToLiveSecs: 60 });
  const held = store.read()!.message;
  assert.equal(held.body.toString(), 'hello');
  assert.equal(held.body.buffer.byteLength, 5, 'the held body owns exactly its bytes');
});

test('expiry stops at the first message still alive in each priority', () => {
  let now = 0;
  const queue = new PriorityQueue(() => now);
  queue.push(message('long'), { priority: 0, timeToLiveSecs: 100 });
  queue.push(message('short'), { priority: 0, timeToLiveSecs: 1 });
  queue.push(message('other'), { priority: 1, timeToLiveSecs: 1 });
  now = 5000;
  queue.dropExpired();
  assert.equal(queue.expired, 1, 'only the priority-1 head had expired');
  assert.equal(queue.size, 2);
  assert.equal(queue.take()?.message.body.toString(), 'long');
  assert.equal(queue.take(), undefined, 'take() still drops the expired message behind it');
  assert.equal(queue.expired, 2);
});

/** A client whose acknowledgements the test gives by hand. */
class FakeLink implements ClientLink {
  readonly subscriptions = new Set<Subscription>(['inputs']);
  readonly delivered: { input: string; body: string; ack: () => void; fail: () => void }[] = [];
  constructor(readonly identity = { id: 'dev/m', deviceId: 'dev', moduleId: 'm' }) {}
  deliverInput(input: string, msg: HubMessage): Promise<void> {
    return new Promise((resolve, reject) =>
      this.delivered.push({
        input,
        body: msg.body.toString(),
        ack: resolve,
        fail: () => reject(new Error('gone')),
      }),
    );
  }
  deliverC2D(): Promise<void> {
    return Promise.reject(new Error('not a device'));
  }
  sendDesiredPatch(): void {}
  sendMethodRequest(): void {}
  close(): void {}
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test('deliveries wait for the module, keep a window in flight, and come back when the link drops', async () => {
  const connections = new ConnectionRegistry();
  const endpoint = new ModuleInputEndpoint('dev/m', 'in1', connections, new MemoryMessageStore(), 2);
  for (const text of ['a', 'b', 'c', 'd'])
    await endpoint.enqueue(message(text), { priority: 0, timeToLiveSecs: 60 });
  assert.equal(endpoint.pending, 4, 'held while the module is not connected');

  const first = new FakeLink();
  connections.add(first);
  assert.deepEqual(
    first.delivered.map((d) => d.body),
    ['a', 'b'],
    'a window of two in flight',
  );
  first.delivered[0]!.ack();
  await flush();
  assert.deepEqual(
    first.delivered.map((d) => d.body),
    ['a', 'b', 'c'],
  );
  assert.equal(endpoint.delivered, 1);

  // the connection goes: b and c were not acknowledged and are delivered again, in order
  first.delivered[1]!.fail();
  first.delivered[2]!.fail();
  connections.remove(first);
  await flush();
  const second = new FakeLink();
  connections.add(second);
  assert.deepEqual(
    second.delivered.map((d) => d.body),
    ['b', 'c'],
  );
  for (const delivery of second.delivered.splice(0)) delivery.ack();
  await flush();
  assert.deepEqual(
    second.delivered.map((d) => d.body),
    ['d'],
  );
  second.delivered[0]!.ack();
  await flush();
  assert.equal(endpoint.pending, 0);
  assert.equal(endpoint.delivered, 4);
  endpoint.close();
});

test('a module connected without an inputs subscription receives nothing until it subscribes', async () => {
  const connections = new ConnectionRegistry();
  const endpoint = new ModuleInputEndpoint('dev/m', 'in1', connections, new MemoryMessageStore());
  await endpoint.enqueue(message('x'), { priority: 0, timeToLiveSecs: 60 });
  const link = new FakeLink();
  link.subscriptions.clear();
  connections.add(link);
  assert.equal(link.delivered.length, 0);
  link.subscriptions.add('inputs');
  connections.changed('dev/m');
  assert.equal(link.delivered.length, 1);
});

test('a second connection for an identity replaces and closes the first', () => {
  const connections = new ConnectionRegistry();
  let closed = 0;
  const first = Object.assign(new FakeLink(), { close: () => closed++ });
  connections.add(first);
  connections.add(new FakeLink());
  assert.equal(closed, 1);
  connections.remove(first);
  assert.ok(connections.get('dev/m'), 'removing the replaced link leaves the new one');
});

test('a message given back is read again before newer ones, in the order messages came in', async () => {
  const store = new MemoryMessageStore();
  for (const text of ['a', 'b', 'c', 'd'])
    await store.append(message(text), { priority: 0, timeToLiveSecs: 60 });
  assert.equal(store.bytes, 4);
  const [a, b, c] = [store.read()!, store.read()!, store.read()!];
  assert.equal(store.waiting, 1);
  assert.equal(store.size, 4, 'messages read are still held until acknowledged');
  store.giveBack(c);
  store.giveBack(a);
  store.acknowledge(b);
  assert.equal(store.size, 3);
  assert.equal(store.bytes, 3);
  const order = [store.read(), store.read(), store.read()].map((entry) => entry!.message.body.toString());
  assert.deepEqual(order, ['a', 'c', 'd']);
  assert.equal(store.read(), undefined);
});

test('a message given back after its TTL is dropped as expired, not sent', async () => {
  let now = 0;
  const expired: string[] = [];
  const store = new MemoryMessageStore(
    (m) => expired.push(m.body.toString()),
    () => now,
  );
  await store.append(message('old'), { priority: 0, timeToLiveSecs: 1 });
  await store.append(message('new'), { priority: 0, timeToLiveSecs: 60 });
  const old = store.read()!;
  now = 2000;
  store.giveBack(old);
  assert.equal(store.read()!.message.body.toString(), 'new');
  assert.deepEqual(expired, ['old']);
  assert.equal(store.expired, 1);
  assert.equal(store.bytes, 3, 'only the message read and not acknowledged is held');
});

/** An upstream link whose acknowledgements the test gives by hand. */
function fakeUpstream() {
  const sent: { body: string; ack: () => void; fail: () => void }[] = [];
  return {
    sent,
    deliver: (msg: HubMessage) =>
      new Promise<void>((resolve, reject) =>
        sent.push({ body: msg.body.toString(), ack: resolve, fail: () => reject(new Error('link down')) }),
      ),
  };
}

test('$upstream holds messages until a link attaches, then sends by priority within its window', async () => {
  const delivered: string[] = [];
  const observer = {
    delivered: (m: HubMessage) => delivered.push(m.body.toString()),
    dropped: () => undefined,
  };
  const upstream = new UpstreamEndpoint(new MemoryMessageStore(), observer, undefined, 2);
  await upstream.enqueue(message('low'), { priority: 3, timeToLiveSecs: 60 });
  await upstream.enqueue(message('high-1'), { priority: 0, timeToLiveSecs: 60 });
  await upstream.enqueue(message('high-2'), { priority: 0, timeToLiveSecs: 60 });
  assert.equal(upstream.pending, 3);

  const link = fakeUpstream();
  upstream.attach(link);
  assert.deepEqual(
    link.sent.map((s) => s.body),
    ['high-1', 'high-2'],
    'two in flight, highest priority first',
  );
  link.sent[0]!.ack();
  await flush();
  assert.deepEqual(
    link.sent.map((s) => s.body),
    ['high-1', 'high-2', 'low'],
  );
  assert.deepEqual(delivered, ['high-1']);

  // the link drops: what it had not acknowledged waits for the next one, in order
  upstream.detach();
  link.sent[1]!.fail();
  link.sent[2]!.fail();
  await flush();
  assert.equal(upstream.pending, 2);
  const next = fakeUpstream();
  upstream.attach(next);
  assert.deepEqual(
    next.sent.map((s) => s.body),
    ['high-2', 'low'],
  );
  for (const s of next.sent) s.ack();
  await flush();
  assert.equal(upstream.pending, 0);
  assert.equal(upstream.delivered, 3);
  upstream.close();
});

test("a target with a window of its own gets that many messages in flight, not the endpoint's", async () => {
  const upstream = new UpstreamEndpoint(new MemoryMessageStore(), undefined, undefined, 2);
  for (let n = 0; n < 6; n++) await upstream.enqueue(message(`m${n}`), { priority: 0, timeToLiveSecs: 60 });
  const link = { ...fakeUpstream(), window: 4 };
  upstream.attach(link);
  assert.deepEqual(
    link.sent.map((s) => s.body),
    ['m0', 'm1', 'm2', 'm3'],
    "four in flight, the target's window",
  );
  link.sent[0]!.ack();
  await flush();
  assert.equal(link.sent.length, 5, 'one acknowledged, one more sent');
  upstream.detach();
  const plain = fakeUpstream();
  for (const s of link.sent.slice(1)) s.fail();
  await flush();
  upstream.attach(plain);
  assert.deepEqual(
    plain.sent.map((s) => s.body),
    ['m1', 'm2'],
    "a target without a window of its own: the endpoint's two",
  );
  upstream.close();
});
