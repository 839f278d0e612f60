import assert from 'node:assert/strict';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

import { DaemonLog, type DaemonLogOptions } from '../../src/runtime/daemon/daemon-log.js';
import {
  embeddedModuleLine,
  isEmbeddedModule,
  storedTexts,
  tagged,
  type EmbeddedModule,
} from '../../src/runtime/daemon/daemon-log-lines.js';
import type { LogLine, LogOptions } from '../../src/runtime/modules/types.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('iotedged-log-');

/** A DaemonLog on a clock that advances a second per line, its stderr captured. */
async function openLog(options: Partial<DaemonLogOptions> & { dir: string }) {
  const stderr: string[] = [];
  let second = 0;
  const log = await DaemonLog.open({
    now: () => new Date(Date.UTC(2030, 0, 1, 0, 0, second++)),
    stderr: (text) => stderr.push(text),
    ...options,
  });
  return { log, stderr };
}

async function read(
  log: DaemonLog,
  module: EmbeddedModule | undefined,
  options: LogOptions = {},
  signal?: AbortSignal,
) {
  const texts: string[] = [];
  for await (const line of log.read(options, module, signal)) texts.push(line.text);
  return texts;
}

test('a component line carries its tag once; only edgeAgent and edgeHub are embedded modules', () => {
  assert.equal(tagged('agent', 'deployment rejected'), 'agent: deployment rejected');
  assert.equal(tagged('hub', 'hub: mqtt: refused x'), 'hub: mqtt: refused x');
  assert.equal(tagged('hub', 'hubris: no'), 'hub: hubris: no');
  assert.equal(isEmbeddedModule('edgeAgent'), true);
  assert.equal(isEmbeddedModule('edgeHub'), true);
  assert.equal(isEmbeddedModule('tempSensor'), false);
  assert.equal(isEmbeddedModule('toString'), false);
});

test('a stored line belongs to the module its tag names, shown without the tag', () => {
  const line = (text: string): LogLine => ({ time: new Date(0), stream: 'stderr', text });
  assert.deepEqual(embeddedModuleLine('edgeAgent', line('agent: create sensor')), line('create sensor'));
  assert.equal(embeddedModuleLine('edgeAgent', line('hub: edge-1/x connected')), undefined);
  assert.equal(embeddedModuleLine('edgeHub', line('iotedged: SIGTERM received')), undefined);
  assert.equal(embeddedModuleLine('edgeHub', line('agent: hub: not a hub line')), undefined);
});

test('a text of several lines is stored as several, each keeping the component tag', () => {
  assert.deepEqual(storedTexts('agent: reconcile failed: Error: boom\n    at plan (x.js:1)\n'), [
    'agent: reconcile failed: Error: boom',
    'agent:     at plan (x.js:1)',
  ]);
  assert.deepEqual(storedTexts('management API failed: Error\n    at y'), [
    'management API failed: Error',
    '    at y',
  ]);
  assert.deepEqual(storedTexts(''), ['']);
  const long = storedTexts(`hub: ${'x'.repeat(40_000)}`);
  assert.equal(long.length, 3);
  assert.ok(long.every((text) => text.startsWith('hub: ') && text.length <= 16 * 1024 + 5));
});

test('every line goes to stderr as before and to the files; a module sees only its own lines', async () => {
  const dir = await tempDir();
  const { log, stderr } = await openLog({ dir });
  const agent = log.component('agent');
  const hub = log.component('hub');
  log.line('iotedged 1.0.0: management API on unix:///x');
  agent('create sensor');
  hub('hub: edge-1/sensor connected');
  agent('agent: start sensor');
  await log.close();

  assert.deepEqual(stderr, [
    '2030-01-01T00:00:00.000Z iotedged 1.0.0: management API on unix:///x\n',
    '2030-01-01T00:00:01.000Z agent: create sensor\n',
    '2030-01-01T00:00:02.000Z hub: edge-1/sensor connected\n',
    '2030-01-01T00:00:03.000Z agent: start sensor\n',
  ]);
  assert.deepEqual(await read(log, 'edgeAgent'), ['create sensor', 'start sensor']);
  assert.deepEqual(await read(log, 'edgeHub'), ['edge-1/sensor connected']);
  assert.deepEqual(await read(log, undefined), [
    'iotedged 1.0.0: management API on unix:///x',
    'agent: create sensor',
    'hub: edge-1/sensor connected',
    'agent: start sensor',
  ]);
  // tail counts the module's lines, not the daemon's; since/until apply to the stored times
  assert.deepEqual(await read(log, 'edgeAgent', { tail: 1 }), ['start sensor']);
  const at = (second: number) => Date.UTC(2030, 0, 1, 0, 0, second) / 1000;
  assert.deepEqual(await read(log, undefined, { since: at(1), until: at(2) }), [
    'agent: create sensor',
    'hub: edge-1/sensor connected',
  ]);
  assert.equal(log.lost, 0);
  assert.equal((await stat(dir)).mode & 0o777, 0o700, 'the files are for the operator only');
});

test('the files rotate at maxBytes and keep `files` of them; each module still finds its lines', async () => {
  const dir = await tempDir();
  const { log } = await openLog({ dir, maxBytes: 200, files: 3 });
  for (let index = 0; index < 30; index++) {
    log.line(index % 3 === 0 ? `hub: line ${index}` : `agent: line ${index}`);
  }
  await log.close();
  assert.deepEqual((await readdir(dir)).sort(), ['current.log', 'current.log.1', 'current.log.2']);
  for (const name of await readdir(dir)) assert.ok((await stat(join(dir, name))).size <= 200, name);
  const all = await read(log, undefined);
  assert.ok(all.length < 30, 'the oldest lines went with the oldest file');
  assert.equal(all.at(-1), 'agent: line 29');
  assert.deepEqual(await read(log, 'edgeHub', { tail: 2 }), ['line 24', 'line 27']);
  assert.deepEqual(await read(log, 'edgeAgent', { tail: 2 }), ['line 28', 'line 29']);
});

test('a follower gets new lines of its module as they are written', async () => {
  const dir = await tempDir();
  const { log } = await openLog({ dir });
  log.line('agent: before');
  const abort = new AbortController();
  const followed: string[] = [];
  const following = (async () => {
    for await (const line of log.read({ follow: true, tail: 0 }, 'edgeAgent', abort.signal)) {
      followed.push(line.text);
      if (followed.length === 2) abort.abort();
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 50));
  log.line('hub: not mine');
  log.line('agent: first');
  await new Promise((resolve) => setTimeout(resolve, 20));
  log.line('agent: second');
  await following;
  assert.deepEqual(followed, ['first', 'second']);
  await log.close();
});

test('a log that cannot be written loses lines without throwing, says so once, and counts them', async () => {
  const parent = await tempDir();
  const blocker = join(parent, 'logs');
  await writeFile(blocker, 'a file where the log directory should be');
  const { log, stderr } = await openLog({ dir: join(blocker, 'iotedged'), retryMs: 0 });
  log.line('agent: one');
  log.line('hub: two');
  await new Promise((resolve) => setTimeout(resolve, 50));
  log.line('agent: three');
  await new Promise((resolve) => setTimeout(resolve, 50));

  const complaints = stderr.filter((text) => text.includes('cannot write the daemon log'));
  assert.equal(complaints.length, 1, stderr.join(''));
  assert.match(complaints[0]!, /logs\/iotedged: .*(ENOTDIR|EEXIST)/);
  assert.ok(
    stderr.some((text) => text.endsWith(' agent: three\n')),
    'stderr still gets every line',
  );
  assert.equal(log.lost, 3);

  // the disk is back: the next line is written, after one that counts what was lost
  await rm(blocker);
  log.line('agent: four');
  await log.close();
  assert.deepEqual(await read(log, undefined), [
    'agent: four',
    'iotedged: 3 line(s) of the daemon log were lost before this one',
  ]);
});

test('lines beyond maxPending while the disk is busy are dropped and counted', async () => {
  const dir = await tempDir();
  const { log } = await openLog({ dir, maxPending: 3 });
  // the first line is being written; the next three wait; the six after them are dropped
  for (let index = 1; index <= 10; index++) log.line(`agent: line ${index}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await log.close();
  assert.equal(log.lost, 6);
  assert.deepEqual(await read(log, undefined), [
    'agent: line 1',
    'agent: line 2',
    'agent: line 3',
    'agent: line 4',
    'iotedged: 6 line(s) of the daemon log were lost before this one',
  ]);
});
