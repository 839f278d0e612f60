import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

import { ChangeSignal, logFileNames } from '../../src/runtime/modules/process/log-files.js';
import { readLogs, type ReadLogsRequest } from '../../src/runtime/modules/process/log-reader.js';
import { LogWriter } from '../../src/runtime/modules/process/log-writer.js';
import type { LogLine } from '../../src/runtime/modules/types.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('iotedge-logs-');

// each line `2030-01-01T00:00:NN.000Z O line NN\n` is 35 bytes
const line = (second: number, stream: LogLine['stream'] = 'stdout'): LogLine => ({
  time: new Date(Date.UTC(2030, 0, 1, 0, 0, second)),
  stream,
  text: `line ${String(second).padStart(2, '0')}`,
});
const seconds = (second: number) => Date.UTC(2030, 0, 1, 0, 0, second) / 1000;

async function read(request: ReadLogsRequest, signal?: AbortSignal): Promise<string[]> {
  const texts: string[] = [];
  for await (const found of readLogs(request, signal)) texts.push(found.text);
  return texts;
}

test('file names run from the oldest rotated file to current.log', () => {
  assert.deepEqual(logFileNames(3), ['current.log.2', 'current.log.1', 'current.log']);
  assert.deepEqual(logFileNames(1), ['current.log']);
});

test('the writer rotates before a file would pass maxBytes and keeps `files` files', async () => {
  const dir = await tempDir();
  let changes = 0;
  const writer = await LogWriter.open({ dir, maxBytes: 100, files: 3, onChange: () => changes++ });
  await writer.append([line(1), line(2), line(3), line(4)]);
  await writer.append([line(5, 'stderr')]);
  await writer.append([6, 7, 8, 9, 10].map((second) => line(second)));
  await writer.close();
  assert.deepEqual((await readdir(dir)).sort(), ['current.log', 'current.log.1', 'current.log.2']);
  // two 35-byte lines fit in 100 bytes, a third would not
  const stored = (...lines: string[]) =>
    lines.map((text) => `2030-01-01T00:00:${text.slice(-2)}.000Z ${text}\n`).join('');
  assert.equal(await readFile(join(dir, 'current.log'), 'utf8'), stored('O line 09', 'O line 10'));
  assert.equal(await readFile(join(dir, 'current.log.1'), 'utf8'), stored('O line 07', 'O line 08'));
  assert.equal(await readFile(join(dir, 'current.log.2'), 'utf8'), stored('E line 05', 'O line 06'));
  assert.ok(changes >= 5);
  assert.deepEqual(await read({ dir, files: 3 }), [
    'line 05',
    'line 06',
    'line 07',
    'line 08',
    'line 09',
    'line 10',
  ]);
});

test('a writer reopened on the same directory continues the current file', async () => {
  const dir = await tempDir();
  const first = await LogWriter.open({ dir, maxBytes: 80, files: 2 });
  await first.append([line(1)]);
  await first.close();
  const second = await LogWriter.open({ dir, maxBytes: 80, files: 2 });
  await second.append([line(2), line(3)]);
  await second.close();
  assert.deepEqual(await read({ dir, files: 2 }), ['line 01', 'line 02', 'line 03']);
  assert.equal((await readFile(join(dir, 'current.log'), 'utf8')).split('\n').length - 1, 1);
});

test('with a single file, rotation starts it afresh', async () => {
  const dir = await tempDir();
  const writer = await LogWriter.open({ dir, maxBytes: 80, files: 1 });
  await writer.append([line(1), line(2), line(3)]);
  await writer.close();
  assert.deepEqual(await readdir(dir), ['current.log']);
  assert.deepEqual(await read({ dir, files: 1 }), ['line 03']);
});

test('reading applies since/until first and tail to what remains, across files', async () => {
  const dir = await tempDir();
  const writer = await LogWriter.open({ dir, maxBytes: 80, files: 10 });
  for (let second = 1; second <= 9; second++) await writer.append([line(second)]);
  await writer.close();
  const all = ['01', '02', '03', '04', '05', '06', '07', '08', '09'].map((second) => `line ${second}`);
  assert.deepEqual(await read({ dir, files: 10 }), all);
  assert.deepEqual(await read({ dir, files: 10, since: seconds(3), until: seconds(6) }), all.slice(2, 6));
  assert.deepEqual(await read({ dir, files: 10, tail: 2 }), all.slice(7));
  assert.deepEqual(await read({ dir, files: 10, tail: 2, until: seconds(5) }), all.slice(3, 5));
  assert.deepEqual(await read({ dir, files: 10, tail: 20, since: seconds(8) }), all.slice(7));
  assert.deepEqual(await read({ dir, files: 10, tail: 0 }), []);
  assert.deepEqual(await read({ dir: join(dir, 'none'), files: 10 }), []);
});

test('a follower reads every line through several rotations that happen while it is not reading', async () => {
  const dir = await tempDir();
  const changes = new ChangeSignal();
  const writer = await LogWriter.open({ dir, maxBytes: 80, files: 4, onChange: () => changes.bump() });
  await writer.append([line(1)]);
  const controller = new AbortController();
  const follower = readLogs({ dir, files: 4, follow: true, changes }, controller.signal);
  assert.equal((await follower.next()).value?.text, 'line 01');
  // three rotations (two lines per file) while the follower waits for its next() call
  for (let second = 2; second <= 7; second++) await writer.append([line(second)]);
  const seen: string[] = [];
  for (let count = 0; count < 6; count++) seen.push((await follower.next()).value?.text ?? '');
  assert.deepEqual(seen, ['line 02', 'line 03', 'line 04', 'line 05', 'line 06', 'line 07']);
  const pending = follower.next();
  await writer.append([line(8)]);
  assert.equal((await pending).value?.text, 'line 08');
  const ended = follower.next();
  controller.abort();
  assert.equal((await ended).done, true);
  await writer.close();
});

test('a follower stops once until has passed, and when the logs are removed', async () => {
  const dir = await tempDir();
  let now = new Date(Date.UTC(2030, 0, 1, 0, 0, 5));
  const changes = new ChangeSignal();
  const writer = await LogWriter.open({ dir, maxBytes: 1000, files: 2, onChange: () => changes.bump() });
  await writer.append([line(1)]);
  const bounded = readLogs({ dir, files: 2, follow: true, changes, until: seconds(10), now: () => now });
  assert.equal((await bounded.next()).value?.text, 'line 01');
  const next = bounded.next();
  now = new Date(Date.UTC(2030, 0, 1, 0, 0, 11));
  await writer.append([line(11)]);
  assert.equal((await next).done, true, 'line 11 is after until');

  const follower = readLogs({ dir, files: 2, follow: true, changes, pollMs: 20 });
  assert.equal((await follower.next()).value?.text, 'line 01');
  assert.equal((await follower.next()).value?.text, 'line 11');
  const last = follower.next();
  await writer.close();
  await rm(dir, { recursive: true });
  changes.bump();
  assert.equal((await last).done, true);
});

test('a change signal wakes waiters only for changes they have not seen', async () => {
  const changes = new ChangeSignal();
  const seen = changes.version;
  changes.bump();
  await changes.wait(seen, 60_000); // resolves at once: a change after `seen`
  let woken = false;
  const waiting = changes.wait(changes.version, 60_000).then(() => (woken = true));
  await new Promise((done) => setImmediate(done));
  assert.equal(woken, false);
  changes.bump();
  await waiting;
  const controller = new AbortController();
  const aborted = changes.wait(changes.version, 60_000, controller.signal);
  controller.abort();
  await aborted;
});
