import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describePlan, nextWakeUp, plan, type Command } from '../../src/runtime/agent/plan.js';
import {
  DEFAULT_TUNING,
  type AgentTuning,
  type RestartStats,
} from '../../src/runtime/agent/restart-policy.js';
import type { ModuleSpec, ModuleState } from '../../src/runtime/modules/types.js';
import { processModuleSpec as spec } from '../helpers/module-specs.js';

const at = (seconds: number) => new Date(Date.UTC(2024, 0, 1) + seconds * 1000);
const NOW = at(10_000);
const ago = (seconds: number) => at(10_000 - seconds);

/** The module as the runtime sees it: created from `of`, running for an hour unless told. */
function state(of: ModuleSpec, fields: Partial<ModuleState> = {}): ModuleState {
  return {
    name: of.name,
    type: of.type,
    configHash: of.configHash,
    status: 'running',
    startTime: ago(3600),
    ...fields,
  };
}

/** Exited `secondsAgo` after running `ranFor` seconds. */
function exited(
  of: ModuleSpec,
  status: 'stopped' | 'failed',
  secondsAgo: number,
  ranFor = 3600,
): ModuleState {
  return state(of, {
    status,
    exitCode: status === 'stopped' ? 0 : 1,
    startTime: ago(secondsAgo + ranFor),
    exitTime: ago(secondsAgo),
  });
}

const noStats = new Map<string, RestartStats>();
const statsOf = (entries: Record<string, RestartStats>) => new Map(Object.entries(entries));

/** The plan as `kind name` strings per group, for readable assertions. */
function planned(
  current: ModuleState[],
  desired: ModuleSpec[],
  stats: ReadonlyMap<string, RestartStats> = noStats,
  options: { now?: Date; tuning?: AgentTuning; previous?: ModuleSpec[] } = {},
): string[][] {
  const groups = plan(
    current,
    desired,
    stats,
    options.now ?? NOW,
    options.tuning ?? DEFAULT_TUNING,
    options.previous,
  );
  return groups.map((group) =>
    group.map((command) => `${command.kind} ${'spec' in command ? command.spec.name : command.name}`),
  );
}

test('an empty device gets every module created, and started when it should run', () => {
  const a = spec('a', { startupOrder: 1 });
  const b = spec('b', { startupOrder: 2, status: 'stopped' });
  const groups = plan([], [b, a], noStats, NOW, DEFAULT_TUNING);
  assert.deepEqual(groups, [
    [
      { kind: 'create', spec: a },
      { kind: 'start', name: 'a' },
    ],
    [{ kind: 'create', spec: b }],
  ]);
});

test('nothing to do gives an empty plan', () => {
  const a = spec('a');
  assert.deepEqual(planned([state(a)], [a]), []);
  assert.deepEqual(planned([], []), []);
});

test('modules of one startupOrder share a group, by name; groups ascend', () => {
  const specs = [
    spec('z', { startupOrder: 5 }),
    spec('m', { startupOrder: 0 }),
    spec('b', { startupOrder: 5 }),
    spec('d'),
  ];
  assert.deepEqual(planned([], specs), [
    ['create m', 'start m'],
    ['create b', 'start b', 'create z', 'start z'],
    ['create d', 'start d'],
  ]);
});

test('modules no longer desired are removed first, in group 0, before that group’s own work', () => {
  const keep = spec('keep', { startupOrder: 0 });
  const fresh = spec('fresh', { startupOrder: 0 });
  const gone = spec('gone', { startupOrder: 9 });
  const alsoGone = spec('also-gone');
  assert.deepEqual(planned([state(keep), state(gone), exited(alsoGone, 'failed', 5)], [keep, fresh]), [
    ['remove also-gone', 'remove gone', 'create fresh', 'start fresh'],
  ]);
  assert.deepEqual(planned([state(gone)], [spec('later', { startupOrder: 3 })]), [
    ['remove gone'],
    ['create later', 'start later'],
  ]);
});

test('a configuration change recreates the module, clears its stats and starts it if it should run', () => {
  const before = spec('a', { version: '1' });
  const after = spec('a', { version: '2' });
  assert.deepEqual(plan([state(before)], [after], statsOf({ a: { restartCount: 2 } }), NOW, DEFAULT_TUNING), [
    [
      { kind: 'reset-stats', name: 'a' },
      { kind: 'recreate', spec: after },
      { kind: 'start', name: 'a' },
    ],
  ]);
  const stoppedAfter = spec('a', { version: '2', status: 'stopped' });
  assert.deepEqual(planned([state(before)], [stoppedAfter]), [['recreate a']]);
  const docker = spec('a', { type: 'docker', settings: { image: 'alpine:3', createOptions: {} } });
  assert.deepEqual(planned([state(before)], [docker]), [['recreate a', 'start a']]);
});

test('a module whose runtime type differs is recreated even with an equal hash', () => {
  const a = spec('a');
  assert.deepEqual(planned([{ ...state(a), type: 'docker' }], [a]), [['recreate a', 'start a']]);
});

test('only a status change: stop a live module, never recreate', () => {
  const running = spec('a');
  const stopped = spec('a', { status: 'stopped' });
  assert.equal(running.configHash, stopped.configHash);
  assert.deepEqual(planned([state(running)], [stopped]), [['stop a']]);
  assert.deepEqual(planned([state(running, { status: 'unhealthy' })], [stopped]), [['stop a']]);
  assert.deepEqual(planned([exited(running, 'failed', 5)], [stopped]), []);
  assert.deepEqual(planned([state(running)], [stopped], statsOf({ a: { restartCount: 3 } })), [
    ['reset-stats a', 'stop a'],
  ]);
});

test('with the previous deployment, stopped -> running starts the module whatever its policy', () => {
  const wasStopped = spec('a', { restartPolicy: 'never', status: 'stopped' });
  const nowRunning = spec('a', { restartPolicy: 'never' });
  const current = [exited(wasStopped, 'stopped', 30)];
  assert.deepEqual(planned(current, [nowRunning]), [], 'without it, policy never leaves the module alone');
  assert.deepEqual(
    planned(current, [nowRunning], statsOf({ a: { restartCount: 1 } }), { previous: [wasStopped] }),
    [['reset-stats a', 'start a']],
  );
  const quick = [exited(wasStopped, 'failed', 1, 1)];
  assert.deepEqual(planned(quick, [nowRunning], noStats, { previous: [wasStopped] }), [['start a']]);
  assert.deepEqual(planned([state(nowRunning)], [wasStopped], noStats, { previous: [nowRunning] }), [
    ['stop a'],
  ]);
  assert.deepEqual(planned([state(nowRunning)], [nowRunning], noStats, { previous: [nowRunning] }), []);
});

test('a failed module is restarted only once its backoff delay has passed', () => {
  const a = spec('a', { restartPolicy: 'on-failure' });
  const stats = statsOf({ a: { restartCount: 2, lastRestartTime: ago(60) } });
  // restart #3 waits 40 s from the later of the last restart and the exit
  assert.deepEqual(planned([exited(a, 'failed', 39, 21)], [a], stats), []);
  assert.deepEqual(nextWakeUp([exited(a, 'failed', 39, 21)], [a], stats, NOW, DEFAULT_TUNING), ago(-1));
  assert.deepEqual(planned([exited(a, 'failed', 40, 20)], [a], stats), [['restart a']]);
  assert.equal(nextWakeUp([exited(a, 'failed', 40, 20)], [a], stats, NOW, DEFAULT_TUNING), undefined);
});

test('which policies restart which observed status', () => {
  const cases: [ModuleSpec['restartPolicy'], ModuleState['status'], string[][]][] = [
    ['never', 'failed', []],
    ['never', 'unhealthy', []],
    ['never', 'unknown', []],
    ['on-failure', 'failed', [['restart a']]],
    ['on-failure', 'unhealthy', []],
    ['on-failure', 'unknown', []],
    ['on-unhealthy', 'failed', [['restart a']]],
    ['on-unhealthy', 'unhealthy', [['restart a']]],
    ['on-unhealthy', 'unknown', []],
    ['always', 'failed', [['restart a']]],
    ['always', 'unhealthy', [['restart a']]],
    ['always', 'unknown', [['restart a']]],
  ];
  for (const [restartPolicy, status, expected] of cases) {
    const a = spec('a', { restartPolicy });
    const current = state(a, {
      status,
      startTime: ago(600),
      exitTime: status === 'failed' ? ago(300) : undefined,
    });
    assert.deepEqual(planned([current], [a]), expected, `${restartPolicy} / ${status}`);
  }
});

test('an unhealthy module waits the backoff delay from its start before being restarted', () => {
  const a = spec('a', { restartPolicy: 'on-unhealthy' });
  const current = [state(a, { status: 'unhealthy', startTime: ago(15) })];
  const stats = statsOf({ a: { restartCount: 1, lastRestartTime: ago(15) } });
  assert.deepEqual(planned(current, [a], stats), []);
  assert.deepEqual(nextWakeUp(current, [a], stats, NOW, DEFAULT_TUNING), ago(-5));
  assert.deepEqual(planned(current, [a], stats, { now: ago(-5) }), [['restart a']]);
});

test('maxRestartCount reached: the module is left failed, nothing is planned or awaited', () => {
  const tuning: AgentTuning = { ...DEFAULT_TUNING, maxRestartCount: 3 };
  for (const restartPolicy of ['on-failure', 'on-unhealthy', 'always'] as const) {
    const a = spec('a', { restartPolicy });
    const stats = statsOf({ a: { restartCount: 3, lastRestartTime: ago(1000) } });
    const current = [exited(a, 'failed', 900)];
    assert.deepEqual(planned(current, [a], stats, { tuning }), [], restartPolicy);
    assert.equal(nextWakeUp(current, [a], stats, NOW, tuning), undefined);
    const below = statsOf({ a: { restartCount: 2, lastRestartTime: ago(1000) } });
    assert.deepEqual(planned(current, [a], below, { tuning }), [['restart a']], restartPolicy);
  }
  const always = spec('a', { restartPolicy: 'always' });
  const used = statsOf({ a: { restartCount: 3 } });
  assert.deepEqual(
    planned([exited(always, 'stopped', 900)], [always], used, { tuning }),
    [],
    'always counts stops',
  );
  const unhealthy = spec('a', { restartPolicy: 'on-unhealthy' });
  assert.deepEqual(planned([state(unhealthy, { status: 'unhealthy' })], [unhealthy], used, { tuning }), []);
});

test('a redeployment clears the stats of a module that had given up', () => {
  const tuning: AgentTuning = { ...DEFAULT_TUNING, maxRestartCount: 3 };
  const before = spec('a', { restartPolicy: 'on-failure' });
  const after = spec('a', { restartPolicy: 'on-failure', version: 'fixed' });
  const stats = statsOf({ a: { restartCount: 3 } });
  assert.deepEqual(planned([exited(before, 'failed', 10)], [after], stats, { tuning }), [
    ['reset-stats a', 'recreate a', 'start a'],
  ]);
});

test('a module the runtime stopped is started at once, without counting, whatever its policy', () => {
  for (const restartPolicy of ['never', 'on-failure', 'on-unhealthy', 'always'] as const) {
    const a = spec('a', { restartPolicy });
    const stoppedByRuntime = { ...exited(a, 'stopped', 1, 60), exitCode: 143, stopRequested: true };
    assert.deepEqual(plan([stoppedByRuntime], [a], noStats, NOW, DEFAULT_TUNING), [
      [{ kind: 'start', name: 'a' }],
    ]);
  }
});

test('a program that finished with 0 on its own stays stopped unless the policy is always', () => {
  for (const restartPolicy of ['never', 'on-failure', 'on-unhealthy'] as const) {
    const a = spec('a', { restartPolicy });
    assert.deepEqual(planned([exited(a, 'stopped', 1, 60)], [a]), [], restartPolicy);
    assert.equal(nextWakeUp([exited(a, 'stopped', 1, 60)], [a], noStats, NOW, DEFAULT_TUNING), undefined);
  }
  const always = spec('a', { restartPolicy: 'always' });
  assert.deepEqual(planned([exited(always, 'stopped', 1, 60)], [always]), [['start a']]);
});

test('a module created but never started is started, even with policy never', () => {
  const a = spec('a', { restartPolicy: 'never' });
  assert.deepEqual(planned([state(a, { status: 'stopped', startTime: undefined })], [a]), [['start a']]);
});

test('a program that exits with 0 at once cannot spin', () => {
  const always = spec('a', { restartPolicy: 'always' });
  const stats = statsOf({ a: { restartCount: 4, lastRestartTime: ago(3) } });
  const quick = [exited(always, 'stopped', 2, 1)];
  assert.deepEqual(planned(quick, [always], stats), [], 'always: a counted restart after 160 s');
  assert.deepEqual(nextWakeUp(quick, [always], stats, NOW, DEFAULT_TUNING), ago(-158));
  assert.deepEqual(planned(quick, [always], stats, { now: ago(-158) }), [['restart a']]);
});

test('after a daemon restart, all stopped modules start in startupOrder groups', () => {
  const specs = [
    spec('hub-bridge', { startupOrder: 0, restartPolicy: 'always' }),
    spec('sensor', { startupOrder: 1, restartPolicy: 'on-failure' }),
    spec('filter', { startupOrder: 1 }),
    spec('dashboard', { startupOrder: 2, restartPolicy: 'always' }),
    spec('batch'),
  ];
  const current = specs.map((each, index) => ({
    ...exited(each, 'stopped', 3 + index * 0.01, 7200),
    exitCode: 143,
    stopRequested: true,
  }));
  assert.deepEqual(planned(current, specs), [
    ['start hub-bridge'],
    ['start filter', 'start sensor'],
    ['start dashboard'],
    ['start batch'],
  ]);
});

test('restarts, too, fall in the module’s startupOrder group', () => {
  const first = spec('first', { startupOrder: 1, restartPolicy: 'on-failure' });
  const second = spec('second', { startupOrder: 2, restartPolicy: 'always' });
  assert.deepEqual(planned([exited(second, 'failed', 60), exited(first, 'failed', 60)], [second, first]), [
    ['restart first'],
    ['restart second'],
  ]);
});

test('a dead module is removed, its stats cleared, and created again', () => {
  const a = spec('a', { startupOrder: 3 });
  assert.deepEqual(planned([state(a, { status: 'dead' })], [a], statsOf({ a: { restartCount: 1 } })), [
    ['remove a', 'reset-stats a', 'create a', 'start a'],
  ]);
  const stopped = spec('a', { status: 'stopped' });
  assert.deepEqual(planned([state(stopped, { status: 'dead' })], [stopped]), [['remove a', 'create a']]);
  assert.equal(nextWakeUp([state(a, { status: 'dead' })], [a], noStats, NOW, DEFAULT_TUNING), undefined);
});

test('intensive care: restart stats are cleared after ten minutes of running', () => {
  const a = spec('a');
  const stats = statsOf({ a: { restartCount: 4, lastRestartTime: ago(600) } });
  assert.deepEqual(planned([state(a, { startTime: ago(599) })], [a], stats), []);
  assert.deepEqual(nextWakeUp([state(a, { startTime: ago(599) })], [a], stats, NOW, DEFAULT_TUNING), ago(-1));
  assert.deepEqual(planned([state(a, { startTime: ago(600) })], [a], stats), [['reset-stats a']]);
  assert.deepEqual(
    planned([state(a, { startTime: ago(600) })], [a], statsOf({ a: { restartCount: 0 } })),
    [],
  );
  const tolerant = spec('a', { restartPolicy: 'on-failure' });
  assert.deepEqual(
    planned([state(tolerant, { status: 'unhealthy', startTime: ago(6000) })], [tolerant], stats),
    [],
    'only a module that is running well',
  );
});

test('within a group the phases follow IoT Edge: removals, resets, creations, updates, restarts, status, care', () => {
  const order = { startupOrder: 0 };
  const dead = spec('dead', order);
  const added = spec('added', order);
  const updatedBefore = spec('updated', { ...order, version: '1' });
  const updated = spec('updated', { ...order, version: '2' });
  const crashed = spec('crashed', { ...order, restartPolicy: 'on-failure' });
  const toStop = spec('to-stop', { ...order, status: 'stopped' });
  const healed = spec('healed', order);
  const current = [
    state(dead, { status: 'dead' }),
    state(updatedBefore),
    exited(crashed, 'failed', 100),
    state(toStop),
    state(healed, { startTime: ago(3600) }),
    state(spec('gone')),
  ];
  const stats = statsOf({
    dead: { restartCount: 1 },
    updated: { restartCount: 1 },
    healed: { restartCount: 2 },
  });
  assert.deepEqual(planned(current, [dead, added, updated, crashed, toStop, healed], stats), [
    [
      'remove gone',
      'remove dead',
      'reset-stats dead',
      'reset-stats updated',
      'create added',
      'start added',
      'create dead',
      'start dead',
      'recreate updated',
      'start updated',
      'restart crashed',
      'stop to-stop',
      'reset-stats healed',
    ],
  ]);
});

test('nextWakeUp is the earliest future time-driven step, ignoring what is due or changing anyway', () => {
  const due = spec('due', { restartPolicy: 'on-failure' });
  const soon = spec('soon', { restartPolicy: 'on-failure' });
  const later = spec('later', { restartPolicy: 'always' });
  const changed = spec('changed', { version: '2' });
  const current = [
    exited(due, 'failed', 60),
    exited(soon, 'failed', 5),
    exited(later, 'failed', 1),
    exited(spec('changed', { version: '1' }), 'failed', 1),
  ];
  const stats = statsOf({ later: { restartCount: 3 } });
  assert.deepEqual(nextWakeUp(current, [due, soon, later, changed], stats, NOW, DEFAULT_TUNING), ago(-5));
  assert.deepEqual(nextWakeUp(current, [later], stats, NOW, DEFAULT_TUNING), ago(-79));
  assert.equal(nextWakeUp(current, [], stats, NOW, DEFAULT_TUNING), undefined);
  assert.equal(nextWakeUp([], [due], stats, NOW, DEFAULT_TUNING), undefined);
});

test('describePlan gives one log line', () => {
  const a = spec('a');
  const groups: Command[][] = [
    [
      { kind: 'remove', name: 'old' },
      { kind: 'create', spec: a },
      { kind: 'start', name: 'a' },
    ],
    [{ kind: 'restart', name: 'b' }],
  ];
  assert.equal(describePlan(groups), 'remove old, create a, start a; then restart b');
  assert.equal(describePlan([]), 'nothing to do');
  assert.equal(describePlan([[]]), 'nothing to do');
});
