import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

import { ModuleNotFoundError } from '../../src/runtime/modules/types.js';
import {
  alive,
  collect,
  eventually,
  MODULE_SCRIPT,
  processRuntimes,
  processSpec,
  stateOf,
  texts,
  waitForLine,
} from '../helpers/process-modules.js';

const runtimes = processRuntimes();
const newRuntime = runtimes.fresh;

test('create, start, start again, stop and remove a module', async () => {
  const { runtime, events } = await newRuntime();
  await runtime.create(processSpec('life', { steps: ['wait'] }), {});
  assert.deepEqual(await stateOf(runtime, 'life'), {
    name: 'life',
    type: 'process',
    status: 'stopped',
    configHash: 'hash-life',
  });
  await assert.rejects(runtime.create(processSpec('life'), {}), /life already exists: remove it first/);

  const started = events.next('life', 'started');
  await runtime.start('life');
  await started;
  await waitForLine(runtime, 'life', 'waiting');
  const running = await stateOf(runtime, 'life');
  assert.equal(running?.status, 'running');
  assert.ok(running?.pid && alive(running.pid));
  assert.ok(running?.startTime instanceof Date);

  await runtime.start('life');
  assert.equal((await stateOf(runtime, 'life'))?.pid, running.pid, 'a second start runs no second copy');

  const exited = events.next('life', 'exited');
  await runtime.stop('life', 5000);
  await exited;
  assert.equal(alive(running.pid), false);
  const stopped = await stateOf(runtime, 'life');
  assert.equal(stopped?.status, 'stopped');
  assert.equal(stopped?.exitCode, 143, 'SIGTERM ended it');
  assert.ok(stopped?.exitTime instanceof Date);
  await runtime.stop('life', 5000);

  await runtime.remove('life');
  assert.deepEqual(await runtime.list(), []);
  await assert.rejects(runtime.start('life'), ModuleNotFoundError);
  await assert.rejects(runtime.remove('life'), ModuleNotFoundError);
  await assert.rejects(runtime.stop('life', 1), ModuleNotFoundError);
});

test('a module that exits is reported at once with its exit code and its last output', async () => {
  const { runtime, events } = await newRuntime();
  await runtime.create(processSpec('crash', { steps: ['out:last words', 'exit:3'] }), {});
  await runtime.create(processSpec('clean', { steps: ['exit:0'] }), {});
  const crashed = events.next('crash', 'exited');
  const cleaned = events.next('clean', 'exited');
  await runtime.start('crash');
  await runtime.start('clean');
  await crashed;
  const crash = await stateOf(runtime, 'crash');
  assert.equal(crash?.status, 'failed');
  assert.equal(crash?.exitCode, 3);
  assert.equal(crash?.statusDescription, 'exited with code 3');
  assert.ok(crash?.exitTime && crash.startTime && crash.exitTime >= crash.startTime);
  assert.deepEqual(texts(await collect(runtime, 'crash')), ['last words']);
  await cleaned;
  const clean = await stateOf(runtime, 'clean');
  assert.equal(clean?.status, 'stopped');
  assert.equal(clean?.exitCode, 0);

  // starting an exited module runs it again
  const again = events.next('crash', 'exited');
  await runtime.start('crash');
  await again;
  assert.deepEqual(texts(await collect(runtime, 'crash')), ['last words', 'last words']);
});

test('a missing or non-executable command fails with the OS error; other modules run on', async () => {
  const { runtime, events } = await newRuntime();
  const dir = await runtimes.homedir();
  const notExecutable = join(dir, 'script.sh');
  await writeFile(notExecutable, '#!/bin/sh\necho hi\n');
  await chmod(notExecutable, 0o644);
  await runtime.create(processSpec('missing', { command: '/no/such/program', args: [] }), {});
  await runtime.create(processSpec('unpathed', { command: 'no-such-program-anywhere', args: [] }), {
    PATH: '/usr/bin:/bin',
  });
  await runtime.create(processSpec('denied', { command: notExecutable, args: [] }), {});
  await runtime.create(processSpec('nocwd', { cwd: join(dir, 'gone') }), {});
  await runtime.create(processSpec('healthy', { steps: ['wait'] }), {});

  const missingExit = events.next('missing', 'exited');
  for (const name of ['missing', 'unpathed', 'denied', 'nocwd', 'healthy']) await runtime.start(name);
  await missingExit;

  const missing = await stateOf(runtime, 'missing');
  assert.equal(missing?.status, 'failed');
  assert.equal(missing?.exitCode, 127);
  assert.equal(
    missing?.statusDescription,
    'cannot start /no/such/program: ENOENT (no such file or directory)',
  );
  const unpathed = await stateOf(runtime, 'unpathed');
  assert.equal(unpathed?.status, 'failed');
  assert.equal(
    unpathed?.statusDescription,
    'cannot start no-such-program-anywhere: ENOENT (no such file or directory), not found in PATH=/usr/bin:/bin',
  );
  const denied = await stateOf(runtime, 'denied');
  assert.equal(denied?.status, 'failed');
  assert.equal(denied?.exitCode, 126);
  assert.equal(denied?.statusDescription, `cannot start ${notExecutable}: EACCES (permission denied)`);
  assert.match(
    (await stateOf(runtime, 'nocwd'))?.statusDescription ?? '',
    /^working directory .*gone: ENOENT/,
  );

  await waitForLine(runtime, 'healthy', 'waiting');
  assert.equal((await stateOf(runtime, 'healthy'))?.status, 'running');
});

test('a program that cannot be executed after all reports the shell error in its log', async () => {
  const { runtime, events } = await newRuntime();
  const dir = await runtimes.homedir();
  const badInterpreter = join(dir, 'bad.sh');
  await writeFile(badInterpreter, '#!/no/such/interpreter\n');
  await chmod(badInterpreter, 0o755);
  await runtime.create(processSpec('bad', { command: badInterpreter, args: [] }), {});
  const exited = events.next('bad', 'exited');
  await runtime.start('bad');
  await exited;
  const bad = await stateOf(runtime, 'bad');
  assert.equal(bad?.status, 'failed');
  assert.equal(bad?.exitCode, 127);
  const [line] = await collect(runtime, 'bad');
  assert.equal(line.stream, 'stderr');
  assert.match(line.text, /bad\.sh: not found/);
});

test('the program gets exactly the environment it was created with, plus PATH', async () => {
  const { runtime, events } = await newRuntime();
  const env = { IOTEDGE_MODULEID: 'envy', IOTEDGE_DEVICEID: 'device-1', 'WITH SPACE': 'a b\nc' };
  await runtime.create(processSpec('envy', { steps: ['env', 'exit:0'] }), env);
  await runtime.create(processSpec('pathy', { steps: ['env', 'exit:0'] }), {
    PATH: '/custom/bin',
    PWD: '/x',
  });
  const done = Promise.all([events.next('envy', 'exited'), events.next('pathy', 'exited')]);
  await runtime.start('envy');
  await runtime.start('pathy');
  await done;
  const envOf = async (name: string) =>
    JSON.parse((await collect(runtime, name))[0].text.slice('env '.length));
  assert.deepEqual(await envOf('envy'), { ...env, PATH: process.env.PATH });
  assert.deepEqual(await envOf('pathy'), { PATH: '/custom/bin', PWD: '/x' });
});

test('the working directory defaults to the module directory', async () => {
  const { runtime, events } = await newRuntime();
  const spec = processSpec('where', { command: '/bin/sh', args: ['-c', 'pwd'] });
  await runtime.create(spec, {});
  const exited = events.next('where', 'exited');
  await runtime.start('where');
  await exited;
  const [line] = await collect(runtime, 'where');
  assert.match(line.text, /\/modules\/where$/);
});

test('stop sends SIGKILL after the grace period, and ends the whole process group', async () => {
  const { runtime } = await newRuntime();
  await runtime.create(processSpec('stubborn', { steps: ['ignore-term', 'wait'] }), {});
  await runtime.create(processSpec('graceful', { steps: ['term:0', 'wait'] }), {});
  await runtime.create(
    processSpec('family', { command: '/bin/sh', args: ['-c', 'sleep 1000 & echo "child $!"; wait'] }),
    {},
  );
  for (const name of ['stubborn', 'graceful', 'family']) await runtime.start(name);
  await waitForLine(runtime, 'stubborn', 'waiting');
  await waitForLine(runtime, 'graceful', 'waiting');
  const line = await eventually(async () => (await collect(runtime, 'family'))[0], 'the child pid of family');
  const grandchild = Number(line.text.split(' ')[1]);
  assert.ok(alive(grandchild));

  await runtime.stop('stubborn', 200);
  const stubborn = await stateOf(runtime, 'stubborn');
  assert.equal(stubborn?.status, 'stopped');
  assert.equal(stubborn?.exitCode, 137);

  await runtime.stop('graceful', 10_000);
  const graceful = await stateOf(runtime, 'graceful');
  assert.deepEqual([graceful?.status, graceful?.exitCode], ['stopped', 0]);
  assert.deepEqual(texts(await collect(runtime, 'graceful')), ['waiting', 'term']);

  await runtime.stop('family', 5000);
  await eventually(() => !alive(grandchild), 'the grandchild to end');
});

test('remove kills a running module and deletes its state', async () => {
  const { runtime } = await newRuntime();
  await runtime.create(processSpec('doomed', { steps: ['ignore-term', 'wait'] }), {});
  await runtime.start('doomed');
  await waitForLine(runtime, 'doomed', 'waiting');
  const pid = (await stateOf(runtime, 'doomed'))?.pid ?? 0;
  await runtime.remove('doomed');
  assert.equal(alive(pid), false);
  assert.deepEqual(await runtime.list(), []);
  await assert.rejects(collect(runtime, 'doomed'), ModuleNotFoundError);
});

test('logs: streams, since/until by the time each line arrived, tail after filtering', async () => {
  let now = new Date('2030-01-01T00:00:00.000Z');
  const { runtime } = await newRuntime({ now: () => now });
  await runtime.create(processSpec('talker', { steps: ['out:at start', 'err:complaint', 'wait'] }), {});
  await runtime.start('talker');
  await waitForLine(runtime, 'talker', 'waiting');
  const pid = (await stateOf(runtime, 'talker'))?.pid ?? 0;
  const seconds = (iso: string) => Date.parse(iso) / 1000;
  for (const [index, iso] of [
    '2030-01-01T00:01:00Z',
    '2030-01-01T00:02:00Z',
    '2030-01-01T00:03:00Z',
  ].entries()) {
    now = new Date(iso);
    process.kill(pid, 'SIGWINCH');
    await waitForLine(runtime, 'talker', `tick ${index + 1}`);
  }

  // stdout and stderr are two pipes: lines keep their order within a stream, not across the two
  const startFirst = (lines: string[]) => [...lines.slice(0, 3).sort(), ...lines.slice(3)];
  const all = await collect(runtime, 'talker');
  assert.deepEqual(startFirst(texts(all)), [
    'at start',
    'complaint',
    'waiting',
    'tick 1',
    'tick 2',
    'tick 3',
  ]);
  assert.deepEqual(
    all.filter((line) => line.stream === 'stderr').map((line) => line.text),
    ['complaint'],
  );
  assert.deepEqual(
    all.slice(3).map((line) => line.time.toISOString()),
    ['2030-01-01T00:01:00.000Z', '2030-01-01T00:02:00.000Z', '2030-01-01T00:03:00.000Z'],
  );
  assert.deepEqual(texts(await collect(runtime, 'talker', { since: seconds('2030-01-01T00:01:30Z') })), [
    'tick 2',
    'tick 3',
  ]);
  assert.deepEqual(
    startFirst(texts(await collect(runtime, 'talker', { until: seconds('2030-01-01T00:02:00Z') }))),
    ['at start', 'complaint', 'waiting', 'tick 1', 'tick 2'],
  );
  assert.deepEqual(
    texts(
      await collect(runtime, 'talker', {
        since: seconds('2030-01-01T00:00:30Z'),
        until: seconds('2030-01-01T00:02:30Z'),
      }),
    ),
    ['tick 1', 'tick 2'],
  );
  assert.deepEqual(texts(await collect(runtime, 'talker', { tail: 2 })), ['tick 2', 'tick 3']);
  assert.deepEqual(
    texts(await collect(runtime, 'talker', { tail: 2, until: seconds('2030-01-01T00:02:00Z') })),
    ['tick 1', 'tick 2'],
  );
  assert.deepEqual(texts(await collect(runtime, 'talker', { tail: 0 })), []);
  await runtime.stop('talker', 5000);
});

test('logs --follow yields new lines until the signal aborts', async () => {
  const { runtime } = await newRuntime();
  await runtime.create(processSpec('chatty', { steps: ['wait'] }), {});
  await runtime.start('chatty');
  await waitForLine(runtime, 'chatty', 'waiting');
  const pid = (await stateOf(runtime, 'chatty'))?.pid ?? 0;
  const controller = new AbortController();
  const seen: string[] = [];
  const following = (async () => {
    for await (const line of runtime.logs('chatty', { follow: true, tail: 1 }, controller.signal)) {
      seen.push(line.text);
      if (seen.length === 3) controller.abort();
    }
  })();
  await eventually(() => seen.length === 1, 'the tail line');
  process.kill(pid, 'SIGWINCH');
  await eventually(() => seen.length === 2, 'the first followed line');
  process.kill(pid, 'SIGWINCH');
  await following;
  assert.deepEqual(seen, ['waiting', 'tick 1', 'tick 2']);
  await runtime.stop('chatty', 5000);
});

test('logs rotate at logMaxBytes, keep logFiles files, and follow reads across rotations', async () => {
  const { runtime, events, homedir } = await newRuntime({ logMaxBytes: 300, logFiles: 3 });
  await runtime.create(processSpec('bulky', { steps: ['lines:40:line', 'exit:0'] }), {});
  const exited = events.next('bulky', 'exited');
  await runtime.start('bulky');
  await exited;
  const dir = join(homedir, 'modules', 'bulky', 'logs');
  assert.deepEqual((await readdir(dir)).sort(), ['current.log', 'current.log.1', 'current.log.2']);
  for (const file of await readdir(dir))
    assert.ok((await stat(join(dir, file))).size <= 300, `${file} is at most 300 bytes`);
  const kept = texts(await collect(runtime, 'bulky'));
  assert.equal(kept.at(-1), 'line 39');
  const first = Number(kept[0].split(' ')[1]);
  assert.ok(first > 0, 'the oldest lines were dropped');
  assert.deepEqual(
    kept,
    Array.from({ length: 40 - first }, (_, index) => `line ${first + index}`),
  );
  assert.deepEqual(texts(await collect(runtime, 'bulky', { tail: 3 })), ['line 37', 'line 38', 'line 39']);

  await runtime.create(processSpec('ticker', { steps: ['wait'] }), {});
  await runtime.start('ticker');
  await waitForLine(runtime, 'ticker', 'waiting');
  const pid = (await stateOf(runtime, 'ticker'))?.pid ?? 0;
  const controller = new AbortController();
  const seen: string[] = [];
  const following = (async () => {
    for await (const line of runtime.logs('ticker', { follow: true }, controller.signal))
      seen.push(line.text);
  })();
  // 30 lines of ~40 bytes: several rotations, each line awaited so none can rotate away unread
  for (let tick = 1; tick <= 30; tick++) {
    process.kill(pid, 'SIGWINCH');
    await eventually(() => seen.includes(`tick ${tick}`), `tick ${tick} followed`);
  }
  controller.abort();
  await following;
  assert.deepEqual(seen, ['waiting', ...Array.from({ length: 30 }, (_, index) => `tick ${index + 1}`)]);
  await runtime.stop('ticker', 5000);
});

test('stop reaches a program that moved to a process group of its own', async (t) => {
  const setsid = ['/usr/bin/setsid', '/bin/setsid'].find((file) => existsSync(file));
  if (!setsid) return t.skip('no setsid(1) here');
  const { runtime } = await newRuntime();
  await runtime.create(
    processSpec('loner', { command: setsid, args: [process.execPath, MODULE_SCRIPT, 'term:0', 'wait'] }),
    {},
  );
  await runtime.start('loner');
  await waitForLine(runtime, 'loner', 'waiting');
  await runtime.stop('loner', 30_000);
  const loner = await stateOf(runtime, 'loner');
  assert.deepEqual(
    [loner?.status, loner?.exitCode],
    ['stopped', 0],
    'ended by its SIGTERM handler, not by SIGKILL',
  );
  assert.deepEqual(texts(await collect(runtime, 'loner')), ['waiting', 'term']);
});
