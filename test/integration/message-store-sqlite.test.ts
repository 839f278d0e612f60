import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import type { DropReason, StoredMessage } from '../../src/runtime/hub/endpoints/message-store.js';
import {
  SqliteMessageStores,
  type SqliteStoresOptions,
} from '../../src/runtime/hub/endpoints/sqlite/sqlite-stores.js';
import { HubRequestError } from '../../src/runtime/hub/hub-request-error.js';
import { messageSize, type HubMessage } from '../../src/runtime/routing/message.js';
import { SmallTmpfs } from '../helpers/small-tmpfs.js';

const message = (text: string, properties: Record<string, string> = {}): HubMessage => ({
  body: Buffer.from(text),
  properties,
  systemProperties: { connectionDeviceId: 'edge-1', connectionModuleId: 'sender', outputName: 'out' },
  source: '/messages/modules/sender/outputs/out',
});

/** A store file in a fresh temp folder, removed after the test. */
function tempFile(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'message-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'hub', 'messages.db');
}

function openStores(file: string, options: Partial<SqliteStoresOptions> = {}): SqliteMessageStores {
  return new SqliteMessageStores({ file, cleanupIntervalMs: 3_600_000, ...options });
}

const bodies = (entries: (StoredMessage | undefined)[]) => entries.map((e) => e?.message.body.toString());

function readAll(store: { read(): StoredMessage | undefined }): StoredMessage[] {
  const out: StoredMessage[] = [];
  for (let next = store.read(); next; next = store.read()) out.push(next);
  return out;
}

test('messages are read by priority, then in the order they came in, with all they carry', async (t) => {
  const stores = openStores(tempFile(t));
  t.after(() => stores.close());
  const store = stores.open('edge-1/receiver/inputs/in1', () => undefined);
  await Promise.all([
    store.append(message('low-1'), { priority: 5, timeToLiveSecs: 60 }),
    store.append(message('high-1', { k: 'v' }), { priority: 0, timeToLiveSecs: 60 }),
    store.append(message('low-2'), { priority: 5, timeToLiveSecs: 60 }),
    store.append(message('high-2'), { priority: 0, timeToLiveSecs: 60 }),
  ]);
  assert.equal(store.size, 4);
  const read = readAll(store);
  assert.deepEqual(bodies(read), ['high-1', 'high-2', 'low-1', 'low-2']);
  assert.deepEqual(read[0]!.message, {
    ...message('high-1', { k: 'v' }),
  });
  assert.equal(store.waiting, 0);
  assert.equal(store.size, 4, 'read messages are held until acknowledged');
});

test('an append resolves only once its commit holds it; a given-back message is read again first', async (t) => {
  const stores = openStores(tempFile(t), { commitIntervalMs: 20 });
  t.after(() => stores.close());
  const store = stores.open('$upstream', () => undefined);
  let resolved = false;
  const appended = store
    .append(message('a'), { priority: 0, timeToLiveSecs: 60 })
    .then(() => (resolved = true));
  assert.equal(store.read(), undefined, 'nothing is readable before the commit');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(resolved, false, 'the append waits for the commit');
  await appended;
  await store.append(message('b'), { priority: 0, timeToLiveSecs: 60 });
  const a = store.read()!;
  const b = store.read()!;
  store.giveBack(a);
  store.acknowledge(b);
  assert.deepEqual(bodies([store.read(), store.read()]), ['a', undefined]);
  assert.equal(store.size, 1);
});

test('reopening restores exactly the messages not acknowledged, in order; those read before count as possible duplicates', async (t) => {
  const file = tempFile(t);
  const first = openStores(file);
  const store = first.open('edge-1/receiver/inputs/in1', () => undefined);
  for (let i = 0; i < 10; i++) await store.append(message(`m${i}`), { priority: i % 2, timeToLiveSecs: 600 });
  const read = readAll(store);
  // acknowledged out of order: m0, m4 and m3 (priority 0), m5 (priority 1); the rest were read or not
  for (const entry of read.filter((e) => ['m0', 'm4', 'm3', 'm5'].includes(e.message.body.toString())))
    store.acknowledge(entry);
  await store.append(message('unread'), { priority: 1, timeToLiveSecs: 600 });
  const up = first.open('$upstream', () => undefined);
  await up.append(message('up'), { priority: 0, timeToLiveSecs: 600 });
  first.close();

  const second = openStores(file);
  t.after(() => second.close());
  assert.deepEqual(second.persistedEndpoints().sort(), ['$upstream', 'edge-1/receiver/inputs/in1']);
  const again = second.open('edge-1/receiver/inputs/in1', () => undefined);
  assert.equal(again.size, 7);
  assert.equal(again.bytes, 6 * messageSize(message('m0')) + messageSize(message('unread')));
  assert.deepEqual(bodies(readAll(again)), ['m2', 'm6', 'm8', 'm1', 'm7', 'm9', 'unread']);
  assert.equal(again.duplicates, 6, 'the six read and not acknowledged may have reached their receiver');
  assert.deepEqual(bodies(readAll(second.open('$upstream', () => undefined))), ['up']);
});

test('messages past their TTL are dropped on read and by the sweep, counted, and not restored', async (t) => {
  const file = tempFile(t);
  let now = 1_000_000;
  const dropped: [string, DropReason][] = [];
  const stores = openStores(file, { now: () => now });
  const store = stores.open('$upstream', (m, reason) => dropped.push([m.body.toString(), reason]));
  await store.append(message('short'), { priority: 0, timeToLiveSecs: 1 });
  await store.append(message('long'), { priority: 0, timeToLiveSecs: 100 });
  await store.append(message('other'), { priority: 3, timeToLiveSecs: 1 });
  now += 2000;
  store.expire();
  assert.deepEqual(dropped, [
    ['short', 'ttl_expiry'],
    ['other', 'ttl_expiry'],
  ]);
  assert.equal(store.expired, 2);
  assert.equal(store.size, 1);
  await store.append(message('soon'), { priority: 3, timeToLiveSecs: 1 });
  now += 1500;
  assert.deepEqual(bodies([store.read(), store.read()]), ['long', undefined]);
  assert.equal(store.expired, 3);
  stores.close();
  const reopened = openStores(file, { now: () => now });
  t.after(() => reopened.close());
  assert.deepEqual(bodies(readAll(reopened.open('$upstream', () => undefined))), ['long']);
});

test('at maxSizeBytes with "refuse" a new message is refused with an error, and nothing held is lost', async (t) => {
  const stores = openStores(tempFile(t));
  t.after(() => stores.close());
  const store = stores.open('$upstream', () => undefined);
  assert.equal(store.bytes, 0);
  await store.append(message('x'.repeat(100)), { priority: 0, timeToLiveSecs: 60 });
  const one = store.bytes;
  stores.limit({ maxSizeBytes: one * 2, fullPolicy: 'refuse' });
  await store.append(message('y'.repeat(100)), { priority: 0, timeToLiveSecs: 60 });
  await assert.rejects(
    store.append(message('z'.repeat(100)), { priority: 0, timeToLiveSecs: 60 }),
    (error) => {
      assert.ok(error instanceof HubRequestError);
      assert.equal(error.status, 503);
      assert.match(error.message, /message store is full .* not accepted/);
      return true;
    },
  );
  assert.equal(store.size, 2);
  assert.equal(stores.refused, 1);
  store.acknowledge(store.read()!);
  await store.append(message('z'.repeat(100)), { priority: 0, timeToLiveSecs: 60 });
  assert.equal(store.size, 2, 'room made by an acknowledgement takes the next message');
});

test('at maxSizeBytes with "dropOldest" the oldest unread messages of any endpoint make room, counted', async (t) => {
  let now = 1000;
  const stores = openStores(tempFile(t), { now: () => now++ });
  t.after(() => stores.close());
  const dropped: [string, string, DropReason][] = [];
  const a = stores.open('edge-1/a/inputs/in', (m, r) => dropped.push(['a', m.body.toString(), r]));
  const b = stores.open('edge-1/b/inputs/in', (m, r) => dropped.push(['b', m.body.toString(), r]));
  await a.append(message('a1'), { priority: 0, timeToLiveSecs: 60 });
  await b.append(message('b1'), { priority: 0, timeToLiveSecs: 60 });
  await a.append(message('a2'), { priority: 0, timeToLiveSecs: 60 });
  const each = a.bytes / 2;
  stores.limit({ maxSizeBytes: each * 3, fullPolicy: 'dropOldest' });
  const inFlight = a.read()!; // a1 is being delivered: it is not dropped
  await b.append(message('b2'), { priority: 0, timeToLiveSecs: 60 });
  await b.append(message('b3'), { priority: 0, timeToLiveSecs: 60 });
  assert.deepEqual(dropped, [
    ['b', 'b1', 'store_full'],
    ['a', 'a2', 'store_full'],
  ]);
  assert.equal(inFlight.message.body.toString(), 'a1');
  assert.equal(a.size + b.size, 3);
  assert.deepEqual(bodies(readAll(b)), ['b2', 'b3']);
});

test('the cleanup deletes acknowledged messages: the file stays bounded over fill-and-drain cycles', async (t) => {
  const file = tempFile(t);
  const body = 'x'.repeat(256);
  const sizes: number[] = [];
  for (let cycle = 0; cycle < 3; cycle++) {
    const stores = openStores(file);
    const store = stores.open('$upstream', () => undefined);
    const appends: Promise<void>[] = [];
    for (let i = 0; i < 20_000; i++)
      appends.push(store.append(message(body), { priority: 0, timeToLiveSecs: 600 }));
    await Promise.all(appends);
    const full = statSync(file).size + statSync(`${file}-wal`).size;
    for (let next = store.read(); next; next = store.read()) store.acknowledge(next);
    assert.equal(store.size, 0);
    stores.close();
    const drained = statSync(file).size;
    sizes.push(drained);
    assert.ok(full > 20_000 * 256, `the filled store takes ${full} bytes`);
    assert.ok(drained < full / 4, `cycle ${cycle}: ${drained} bytes after draining ${full}`);
  }
  assert.ok(sizes[2]! <= sizes[0]! * 1.5, `drained sizes over cycles: ${sizes.join(', ')}`);
});

test('appends the full disk refuses are rejected with 503 and not held; the store takes messages again once freed', async (t) => {
  const mounted = SmallTmpfs.mount(1024);
  if ('skip' in mounted) return t.skip(mounted.skip);
  t.after(() => mounted.unmount());
  const file = path.join(mounted.dir, 'hub', 'messages.db');
  const stores = openStores(file);
  const store = stores.open('$upstream', () => undefined);
  await store.append(message('kept'), { priority: 0, timeToLiveSecs: 600 });
  mounted.fill();
  const accepted = ['kept'];
  let refusal: unknown;
  for (let i = 0; i < 100 && !refusal; i++) {
    const body = `${i}:${'x'.repeat(8000)}`;
    await store.append(message(body), { priority: 0, timeToLiveSecs: 600 }).then(
      () => accepted.push(body),
      (error: unknown) => (refusal = error),
    );
  }
  assert.ok(refusal instanceof HubRequestError, `refused: ${String(refusal)}`);
  assert.equal(refusal.status, 503);
  assert.match(refusal.message, /could not save the message \(SQLITE_FULL\)/);
  assert.equal(store.size, accepted.length, 'the refused message is not held');
  mounted.free();
  await store.append(message('after'), { priority: 0, timeToLiveSecs: 600 });
  accepted.push('after');
  assert.deepEqual(bodies(readAll(store)), accepted);
  stores.close();
  const reopened = openStores(file);
  t.after(() => reopened.close());
  assert.deepEqual(bodies(readAll(reopened.open('$upstream', () => undefined))), accepted);
});

test('a file that is not a message store is refused with its path and the reason, never a stack', (t) => {
  const file = tempFile(t);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'not a database, just some text long enough to be read as a header '.repeat(10));
  assert.throws(
    () => openStores(file),
    (error: Error) => {
      assert.equal(error.message, `the message store ${file} cannot be opened: SQLITE_NOTADB`);
      return true;
    },
  );
});
