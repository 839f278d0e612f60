import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ConnectionRegistry,
  type ClientLink,
  type Subscription,
} from '../../../src/runtime/hub/connections.js';
import { ModuleInputEndpoint } from '../../../src/runtime/hub/endpoints/module-input.js';
import { PriorityQueue } from '../../../src/runtime/hub/endpoints/priority-queue.js';
import type { HubMessage } from '../../../src/runtime/hub/message.js';

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
  for (let next = queue.take(); next; next = queue.take()) order.push(next.item.message.body.toString());
  assert.deepEqual(order, ['high-1', 'high-2', 'low']);
  assert.equal(queue.expired, 1);
  assert.equal(queue.size, 0);
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
  const endpoint = new ModuleInputEndpoint('dev/m', 'in1', connections, 2);
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
  const endpoint = new ModuleInputEndpoint('dev/m', 'in1', connections);
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
