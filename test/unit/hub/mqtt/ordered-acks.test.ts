import assert from 'node:assert/strict';
import { test } from 'node:test';

import { OrderedAcks } from '../../../../src/runtime/hub/mqtt-head/ordered-acks.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

test('acknowledgements go in arrival order, whatever order the work finishes in', async () => {
  const acks = new OrderedAcks();
  const order: string[] = [];
  const first = deferred();
  const second = deferred();
  const third = deferred();
  acks.add(
    first.promise,
    () => order.push('1'),
    () => order.push('1 failed'),
  );
  acks.add(
    second.promise,
    () => order.push('2'),
    () => order.push('2 failed'),
  );
  acks.add(
    third.promise,
    () => order.push('3'),
    () => order.push('3 failed'),
  );
  assert.equal(acks.pending, 3);
  third.resolve();
  second.resolve();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, [], 'nothing before the first is done');
  first.resolve();
  await acks.settled();
  assert.deepEqual(order, ['1', '2', '3']);
  assert.equal(acks.pending, 0);
});

test('a failure is told in its turn, and the later publishes are still acknowledged', async () => {
  const acks = new OrderedAcks();
  const order: string[] = [];
  const first = deferred();
  const second = deferred();
  acks.add(
    first.promise,
    () => order.push('1'),
    () => order.push('1 failed'),
  );
  acks.add(
    second.promise,
    () => order.push('2'),
    (error) => order.push(`2 failed: ${error.message}`),
  );
  acks.add(
    Promise.resolve(),
    () => order.push('3'),
    () => order.push('3 failed'),
  );
  // rejected before anyone waits for it: never an unhandled rejection
  second.reject(new Error('store full'));
  await new Promise((resolve) => setImmediate(resolve));
  first.resolve();
  await acks.settled();
  assert.deepEqual(order, ['1', '2 failed: store full', '3']);
});

test('a connection that always has publishes waiting is acknowledged in order, on and on', async () => {
  const acks = new OrderedAcks();
  const acknowledged: number[] = [];
  let previous = deferred();
  previous.resolve();
  // each publish finishes only once the next one has arrived: never nothing waiting
  for (let index = 0; index < 5000; index++) {
    const current = deferred();
    acks.add(
      current.promise,
      () => acknowledged.push(index),
      () => acknowledged.push(-1),
    );
    previous.resolve();
    previous = current;
    if (index % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  previous.resolve();
  await acks.settled();
  assert.equal(acks.pending, 0);
  assert.deepEqual(
    acknowledged,
    Array.from({ length: 5000 }, (_, index) => index),
  );
});
