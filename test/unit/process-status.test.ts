import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { RunRecord, StoredSpec } from '../../src/runtime/modules/process/module-store.js';
import { judgeRun } from '../../src/runtime/modules/process/adoption.js';
import { parseProcStat } from '../../src/runtime/modules/process/proc.js';
import { observedState } from '../../src/runtime/modules/process/status.js';
import { wrapperInvocation } from '../../src/runtime/modules/process/wrapper.js';

const stored = {
  spec: { name: 'm', configHash: 'abc' },
  env: {},
} as unknown as StoredSpec;
const started = '2030-01-01T00:00:00.000Z';
const ended = '2030-01-01T00:05:00.000Z';
const run = (extra: Partial<RunRecord> = {}): RunRecord => ({
  bootId: 'b',
  startTime: started,
  pgid: 10,
  pid: 11,
  stopRequested: false,
  ...extra,
});

test('a module never started is stopped, without times', () => {
  assert.deepEqual(observedState('m', stored, undefined, undefined), {
    name: 'm',
    type: 'process',
    status: 'stopped',
    configHash: 'abc',
  });
});

test('a running module reports its pid and start time, and its health', () => {
  assert.deepEqual(observedState('m', stored, run(), { pid: 11, unhealthy: false }), {
    name: 'm',
    type: 'process',
    status: 'running',
    configHash: 'abc',
    startTime: new Date(started),
    pid: 11,
  });
  const sick = observedState('m', stored, run(), {
    pid: 11,
    unhealthy: true,
    healthDescription: 'probe failed',
  });
  assert.equal(sick.status, 'unhealthy');
  assert.equal(sick.statusDescription, 'probe failed');
});

test('an exit is failed unless its code is 0 or it followed stop()', () => {
  const failed = observedState('m', stored, run({ exit: { code: 3, time: ended } }), undefined);
  assert.deepEqual(failed, {
    name: 'm',
    type: 'process',
    status: 'failed',
    configHash: 'abc',
    startTime: new Date(started),
    exitTime: new Date(ended),
    exitCode: 3,
    statusDescription: 'exited with code 3',
  });
  const clean = observedState('m', stored, run({ exit: { code: 0, time: ended } }), undefined);
  assert.deepEqual([clean.status, clean.exitCode, clean.statusDescription], ['stopped', 0, undefined]);
  const stopped = observedState(
    'm',
    stored,
    run({ stopRequested: true, exit: { code: 143, time: ended } }),
    undefined,
  );
  assert.deepEqual([stopped.status, stopped.exitCode], ['stopped', 143]);
  const unknown = observedState(
    'm',
    stored,
    run({ exit: { time: ended, description: 'the device restarted' } }),
    undefined,
  );
  assert.deepEqual(
    [unknown.status, unknown.exitCode, unknown.statusDescription],
    ['failed', undefined, 'the device restarted'],
  );
  const refused = observedState(
    'm',
    stored,
    run({ exit: { code: 127, time: ended, description: 'cannot start x: ENOENT' } }),
    undefined,
  );
  assert.deepEqual([refused.status, refused.statusDescription], ['failed', 'cannot start x: ENOENT']);
});

test('/proc/<pid>/stat is parsed after the command name, whatever it contains', () => {
  const fields = Array.from({ length: 50 }, (_, index) => String(index + 3));
  fields[0] = 'S';
  fields[2] = '4242';
  fields[19] = '987654';
  assert.deepEqual(parseProcStat(`123 (a) b) c) ${fields.join(' ')}`), {
    state: 'S',
    pgrp: 4242,
    start: '987654',
  });
  assert.equal(parseProcStat('123 (x) S 1'), undefined);
});

test('the wrapper gets shell-safe variables directly and the others through /usr/bin/env', () => {
  const { argv, env } = wrapperInvocation(
    '/run/dir',
    { A: '1', 'B.C': 'x=y', PWD: '/p', 'D-E': '' },
    '/bin/prog',
    ['--flag'],
  );
  assert.deepEqual(argv.slice(2), ['iotedged-module', '/run/dir', '/bin/prog', '--flag']);
  assert.equal(argv[0], '-c');
  assert.deepEqual(env, {
    A: '1',
    IOTEDGED_ENV_1: 'B.C=x=y',
    IOTEDGED_ENV_2: 'PWD=/p',
    IOTEDGED_ENV_3: 'D-E=',
    IOTEDGED_ENV_COUNT: '3',
  });
  assert.deepEqual(wrapperInvocation('/r', { A: '1' }, 'x', []).env, { A: '1' });
});

test('a run left by an earlier iotedged is adopted only within the same boot, while its pid is the program', () => {
  const now = new Date(ended);
  const facts = { boot: 'b', pid: 11, running: true, now };
  assert.deepEqual(judgeRun(run(), facts), { adopt: 11 });
  assert.deepEqual(judgeRun(run(), { ...facts, exit: { code: 5, time: new Date(started) } }), {
    exit: { code: 5, time: started },
  });
  assert.deepEqual(judgeRun(run(), { ...facts, boot: 'other' }), {
    exit: { time: ended, description: 'the device restarted while the module was running' },
  });
  assert.deepEqual(judgeRun(run(), { ...facts, running: false }), {
    exit: {
      time: ended,
      description: 'the module ended while iotedged was not running; its exit code is unknown',
    },
  });
  assert.deepEqual(judgeRun(run({ pid: undefined }), { ...facts, pid: undefined, running: false }), {
    exit: { time: ended, description: 'iotedged ended while starting the module' },
  });
});
