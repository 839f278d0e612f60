import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backoffDelayMs,
  DEFAULT_TUNING,
  effectiveStatus,
  restartDue,
  restartDueAt,
  type AgentTuning,
} from '../../src/runtime/agent/restart-policy.js';
import type { ObservedStatus, RestartPolicy, RuntimeStatus } from '../../src/runtime/modules/types.js';

const at = (seconds: number) => new Date(Date.UTC(2024, 0, 1) + seconds * 1000);

test('default tuning: 10 s unit, 300 s cap, 10 min intensive care, never give up', () => {
  assert.deepEqual(
    { ...DEFAULT_TUNING },
    { coolOffUnitMs: 10_000, maxBackoffMs: 300_000, intensiveCareMs: 600_000 },
  );
  assert.equal(DEFAULT_TUNING.maxRestartCount, undefined);
});

test('backoff doubles from the unit up to the cap: 10, 20, 40, 80, 160, 300, 300 s', () => {
  const delays = [0, 1, 2, 3, 4, 5, 6, 7].map((count) => backoffDelayMs(count, DEFAULT_TUNING) / 1000);
  assert.deepEqual(delays, [10, 20, 40, 80, 160, 300, 300, 300]);
  assert.equal(backoffDelayMs(5000, DEFAULT_TUNING), 300_000, 'huge counts stay at the cap');
  const fast: AgentTuning = { coolOffUnitMs: 100, maxBackoffMs: 1_000, intensiveCareMs: 5_000 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((count) => backoffDelayMs(count, fast)),
    [100, 200, 400, 800, 1000, 1000],
  );
});

const POLICIES: RestartPolicy[] = ['never', 'on-failure', 'on-unhealthy', 'always'];

/** Effective status with desired = running, by observed status, in the order of POLICIES. */
const WHEN_RUNNING_WANTED: Record<ObservedStatus, RuntimeStatus[]> = {
  running: ['running', 'running', 'running', 'running'],
  stopped: ['stopped', 'stopped', 'stopped', 'backoff'],
  failed: ['failed', 'backoff', 'backoff', 'backoff'],
  unhealthy: ['unhealthy', 'unhealthy', 'unhealthy', 'unhealthy'],
  dead: ['dead', 'dead', 'dead', 'dead'],
  unknown: ['unknown', 'unknown', 'unknown', 'backoff'],
};

test('effectiveStatus for every policy and observed status, module wanted running', () => {
  for (const [observed, expected] of Object.entries(WHEN_RUNNING_WANTED) as [
    ObservedStatus,
    RuntimeStatus[],
  ][]) {
    POLICIES.forEach((restartPolicy, index) => {
      const status = effectiveStatus(
        { status: 'running', restartPolicy },
        { status: observed },
        undefined,
        DEFAULT_TUNING,
      );
      assert.equal(status, expected[index], `${restartPolicy} / ${observed}`);
    });
  }
});

test('effectiveStatus: backoff turns to failed once maxRestartCount restarts are used up', () => {
  const tuning: AgentTuning = { ...DEFAULT_TUNING, maxRestartCount: 3 };
  for (const [observed, expected] of Object.entries(WHEN_RUNNING_WANTED) as [
    ObservedStatus,
    RuntimeStatus[],
  ][]) {
    POLICIES.forEach((restartPolicy, index) => {
      const spec = { status: 'running' as const, restartPolicy };
      const below = effectiveStatus(spec, { status: observed }, { restartCount: 2 }, tuning);
      const reached = effectiveStatus(spec, { status: observed }, { restartCount: 3 }, tuning);
      assert.equal(below, expected[index], `${restartPolicy} / ${observed} below the maximum`);
      assert.equal(
        reached,
        expected[index] === 'backoff' ? 'failed' : expected[index],
        `${restartPolicy} / ${observed}`,
      );
    });
  }
  const unlimited = effectiveStatus(
    { status: 'running', restartPolicy: 'always' },
    { status: 'failed' },
    { restartCount: 10_000 },
    DEFAULT_TUNING,
  );
  assert.equal(unlimited, 'backoff', 'no maximum by default');
});

test('effectiveStatus: a module wanted stopped shows what it is; an absent one is unknown', () => {
  for (const observed of Object.keys(WHEN_RUNNING_WANTED) as ObservedStatus[]) {
    for (const restartPolicy of POLICIES) {
      const status = effectiveStatus(
        { status: 'stopped', restartPolicy },
        { status: observed },
        undefined,
        DEFAULT_TUNING,
      );
      assert.equal(status, observed, `${restartPolicy} / ${observed}`);
    }
  }
  assert.equal(
    effectiveStatus({ status: 'running', restartPolicy: 'always' }, undefined, undefined, DEFAULT_TUNING),
    'unknown',
  );
});

test('restartDue: the backoff delay counts from the exit', () => {
  const state = { status: 'failed' as const, startTime: at(0), exitTime: at(100) };
  assert.equal(restartDue(state, undefined, at(109.999), DEFAULT_TUNING), false);
  assert.equal(restartDue(state, undefined, at(110), DEFAULT_TUNING), true);
  assert.deepEqual(restartDueAt(state, undefined, DEFAULT_TUNING), at(110));
  const third = { restartCount: 3, lastRestartTime: at(90) };
  assert.deepEqual(restartDueAt(state, third, DEFAULT_TUNING), at(180));
  assert.equal(restartDue(state, third, at(179), DEFAULT_TUNING), false);
  assert.equal(restartDue(state, third, at(180), DEFAULT_TUNING), true);
});

test('restartDue: a restart attempt later than the recorded exit restarts the clock', () => {
  const state = { status: 'failed' as const, startTime: at(0), exitTime: at(100) };
  const stats = { restartCount: 1, lastRestartTime: at(200) };
  assert.deepEqual(restartDueAt(state, stats, DEFAULT_TUNING), at(220));
});

test('restartDue: an unhealthy module gets the delay from its start to recover', () => {
  const state = { status: 'unhealthy' as const, startTime: at(50), exitTime: at(10) };
  assert.deepEqual(restartDueAt(state, undefined, DEFAULT_TUNING), at(60));
  assert.deepEqual(restartDueAt(state, { restartCount: 2, lastRestartTime: at(49) }, DEFAULT_TUNING), at(90));
  assert.equal(restartDue(state, { restartCount: 2 }, at(89), DEFAULT_TUNING), false);
});

test('restartDue: with no time to count from, the restart is due at once', () => {
  assert.equal(restartDueAt({ status: 'failed' }, undefined, DEFAULT_TUNING), undefined);
  assert.equal(restartDue({ status: 'failed' }, { restartCount: 4 }, at(0), DEFAULT_TUNING), true);
  assert.deepEqual(restartDueAt({ status: 'failed', startTime: at(5) }, undefined, DEFAULT_TUNING), at(15));
});
