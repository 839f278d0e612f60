import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';

import { OrderedAcks, writePuback } from '../../../../src/runtime/hub/mqtt-head/ordered-acks.js';

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

test('PUBACKs written in one turn leave the socket in one write', async () => {
  const socket = new PassThrough();
  const writes: Buffer[] = [];
  const write = socket._write.bind(socket);
  const writev = socket._writev?.bind(socket);
  socket._writev = (chunks, callback) => {
    writes.push(Buffer.concat(chunks.map(({ chunk }) => chunk as Buffer)));
    return writev ? writev(chunks, callback) : callback();
  };
  socket._write = (chunk: Buffer, encoding, callback) => {
    writes.push(chunk);
    write(chunk, encoding, callback);
  };
  writePuback(socket, 1);
  writePuback(socket, 0x1234);
  assert.equal(writes.length, 0, 'corked until the turn ends');
  await new Promise((resolve) => process.nextTick(resolve));
  assert.deepEqual(writes, [Buffer.from([0x40, 2, 0, 1, 0x40, 2, 0x12, 0x34])]);
});

test('no PUBACK on a socket that is gone', () => {
  const socket = new PassThrough();
  socket.destroy();
  assert.doesNotThrow(() => writePuback(socket, 7));
});
