import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CommitRing, type RingCommit } from '../../../src/runtime/hub/endpoints/sqlite/commit-ring.js';
import {
  packRows,
  unpackRows,
  type MessageRow,
} from '../../../src/runtime/hub/endpoints/sqlite/row-batch.js';

const row = (offset: number, body: string, meta = '{"p":{"k":"é✓"}}'): MessageRow => ({
  offset,
  queue: 2,
  enqueuedAt: 1_700_000_000_123,
  expiresAt: Number.MAX_SAFE_INTEGER,
  size: body.length + 10,
  meta,
  body: Buffer.from(body),
});

const commit = (id: number, rows: MessageRow[]): RingCommit => ({
  id,
  rows,
  queues: [{ id: 2, checkpoint: 7, readMark: 9 }],
  consumed: [8],
});

const plain = (c: RingCommit | undefined) =>
  c && { ...c, rows: c.rows.map((r) => ({ ...r, body: r.body.toString() })) };

test('a commit comes out of the ring as it went in, texts in any script included', () => {
  const ring = CommitRing.create(1024);
  const sent = commit(1, [row(1, 'a'), row(2, 'bb', '{"p":{},"s":{"messageId":"x\\ny"}}')]);
  assert.deepEqual(ring.write(sent), { added: true, wake: true });
  assert.deepEqual(plain(ring.read()), plain(sent));
  assert.equal(ring.read(), undefined);
});

test('records wrap at the end of the ring; a full ring refuses until read, and never overwrites', () => {
  const ring = CommitRing.create(1024);
  const sent: RingCommit[] = [];
  const received: RingCommit[] = [];
  let id = 0;
  for (let round = 0; round < 40; round++) {
    // write until full, then read some: the write position goes round the ring many times
    for (;;) {
      const next = commit(++id, [row(id, 'x'.repeat(100 + (id % 37)))]);
      if (!ring.write(next).added) {
        id--;
        break;
      }
      sent.push(next);
    }
    for (let read = 0; read < 2; read++) {
      const next = ring.read();
      if (next) received.push(next);
    }
  }
  for (let next = ring.read(); next; next = ring.read()) received.push(next);
  assert.ok(sent.length > 80, `${sent.length} commits went round the ring`);
  assert.deepEqual(received.map(plain), sent.map(plain));
});

test('the writer is told to wake the reader only when the reader had said it was idle', () => {
  const ring = CommitRing.create(4096);
  assert.equal(ring.write(commit(1, [row(1, 'a')])).wake, true);
  assert.equal(ring.write(commit(2, [row(2, 'b')])).wake, false, 'the reader was already told');
  ring.read();
  assert.equal(ring.idle(), false, 'a record is still there: the reader reads on');
  ring.read();
  assert.equal(ring.idle(), true);
  assert.equal(ring.write(commit(3, [row(3, 'c')])).wake, true);
  assert.equal(ring.fits(commit(4, [row(4, 'x'.repeat(5000))])), false);
  assert.throws(() => new CommitRing(new SharedArrayBuffer(16 + 1000)), /power of two/);
});

test('rows packed for another thread come back the same, bodies end to end in one buffer', () => {
  const rows = [row(5, 'first'), row(6, ''), row(7, 'third', '{}')];
  const batch = packRows(rows);
  assert.equal(batch.bodies.byteLength, 10);
  assert.deepEqual(unpackRows(batch), rows);
  assert.deepEqual(unpackRows(packRows([])), []);
});
