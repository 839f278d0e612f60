import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

import { ProcessRuntime } from '../../src/runtime/modules/process/process-runtime.js';
import {
  alive,
  collect,
  eventually,
  MODULE_SCRIPT,
  processRuntimes,
  processSpec,
  RUNTIME_CHILD,
  stateOf,
  texts,
  waitForLine,
} from '../helpers/process-modules.js';

const runtimes = processRuntimes();

/** Runtime A: a child node process that starts module `adoptee`; returns once it runs, with its pid. */
async function startWithRuntimeA(homedir: string, steps: string[]) {
  const child = spawn(process.execPath, [RUNTIME_CHILD, homedir, ...steps], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const pid = await eventually(
    () => Number(/^ready (\d+)\n/.exec(output)?.[1]),
    'runtime A to start the module',
  );
  return {
    pid,
    /** Resolves once runtime A has logged `text` from the module. */
    logged: (text: string) =>
      eventually(() => output.includes(`\nlog ${text}\n`), `runtime A to log ${text}`),
    /** iotedged's crash: nothing runs in runtime A after this. */
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const runtimeB = (homedir: string) => runtimes.open(homedir);

/** Processes of the module's process group running the module fixture (not the wrapper naming it). */
async function copiesIn(pgid: number): Promise<number> {
  let copies = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    if (pgrp === pgid && cmdline.split('\0')[1] === MODULE_SCRIPT) copies++;
  }
  return copies;
}

async function runRecord(homedir: string) {
  return JSON.parse(await readFile(join(homedir, 'modules', 'adoptee', 'run.json'), 'utf8'));
}

test('after iotedged is SIGKILLed, the next runtime adopts the running module, its logs and its exit', async () => {
  const homedir = await runtimes.homedir();
  const a = await startWithRuntimeA(homedir, ['out:first', 'wait']);
  // one signal at a time: pending signals are delivered lowest number first, not in sending order
  process.kill(a.pid, 'SIGWINCH');
  await a.logged('tick 1');
  await a.kill();

  // iotedged is down: the module lives on, and writes more than a pipe holds (about 215 kB)
  assert.ok(alive(a.pid));
  process.kill(a.pid, 'SIGWINCH');
  process.kill(a.pid, 'SIGHUP');

  const { runtime, events } = runtimeB(homedir);
  const adopted = await stateOf(runtime, 'adoptee');
  assert.equal(adopted?.status, 'running');
  assert.equal(adopted?.pid, a.pid);
  await runtime.start('adoptee');
  assert.equal((await stateOf(runtime, 'adoptee'))?.pid, a.pid, 'start on the adopted module is a no-op');
  const { pgid } = await runRecord(homedir);
  assert.equal(await copiesIn(pgid), 1, 'exactly one copy of the module runs');

  await waitForLine(runtime, 'adoptee', 'flood 1 done');
  const lines = texts(await collect(runtime, 'adoptee'));
  assert.deepEqual(lines.slice(0, 3), ['first', 'waiting', 'tick 1']);
  assert.ok(lines.includes('tick 2'), 'the line written while iotedged was down');
  assert.equal(
    lines.filter((line) => line.startsWith('flood 1 ')).length,
    1001,
    'no line written while iotedged was down is lost',
  );
  assert.ok(alive(a.pid), 'a full pipe only made the module wait');

  process.kill(a.pid, 'SIGWINCH');
  await waitForLine(runtime, 'adoptee', 'tick 3');

  const exited = events.next('adoptee', 'exited');
  process.kill(a.pid, 'SIGUSR2');
  await exited;
  const state = await stateOf(runtime, 'adoptee');
  assert.equal(state?.status, 'failed');
  assert.equal(state?.exitCode, 5);
  assert.deepEqual(texts(await collect(runtime, 'adoptee', { tail: 2 })), ['tick 3', 'bye']);
  assert.equal(await copiesIn(pgid), 0);
});

test('a module that exits while iotedged is down is reported with its exit code, and starts again', async () => {
  const homedir = await runtimes.homedir();
  const a = await startWithRuntimeA(homedir, ['wait']);
  await a.kill();
  process.kill(a.pid, 'SIGUSR2');
  await eventually(() => !alive(a.pid), 'the module to end');
  await eventually(
    () => readFile(join(homedir, 'modules', 'adoptee', 'run', 'exit'), 'utf8').catch(() => ''),
    'the exit file',
  );

  const { runtime, events } = runtimeB(homedir);
  const state = await stateOf(runtime, 'adoptee');
  assert.equal(state?.status, 'failed');
  assert.equal(state?.exitCode, 5);
  assert.ok(state?.exitTime instanceof Date);

  const started = events.next('adoptee', 'started');
  await runtime.start('adoptee');
  await started;
  const again = await stateOf(runtime, 'adoptee');
  assert.equal(again?.status, 'running');
  assert.notEqual(again?.pid, a.pid);
  await runtime.stop('adoptee', 5000);
});

test('a recorded pid from an earlier boot, or now held by another process, is never adopted', async () => {
  for (const [record, description] of [
    [{ bootId: 'an-earlier-boot' }, 'the device restarted while the module was running'],
    [{ pidStart: '1' }, 'the module ended while iotedged was not running; its exit code is unknown'],
  ] as const) {
    const homedir = await runtimes.homedir();
    const setup = new ProcessRuntime({ homedir });
    await setup.create(processSpec('adoptee'), {});
    await setup.close();
    const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    // the test process itself plays the unrelated process that got the pid
    const run = {
      bootId,
      startTime: new Date().toISOString(),
      pgid: process.pid,
      pid: process.pid,
      stopRequested: false,
    };
    Object.assign(run, record);
    await writeFile(join(homedir, 'modules', 'adoptee', 'run.json'), JSON.stringify(run));

    const { runtime } = runtimeB(homedir);
    const state = await stateOf(runtime, 'adoptee');
    assert.equal(state?.status, 'failed');
    assert.equal(state?.statusDescription, description);
    await runtime.stop('adoptee', 0);
    await runtime.remove('adoptee');
    assert.ok(alive(process.pid));
  }
});
