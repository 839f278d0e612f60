import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deferUnprepared } from '../../src/runtime/agent/defer.js';
import type { Command } from '../../src/runtime/agent/plan.js';
import { Preparation, type Readiness } from '../../src/runtime/agent/preparation.js';
import type { ModuleRuntime, ModuleSpec } from '../../src/runtime/modules/types.js';
import { processModuleSpec as spec } from '../helpers/module-specs.js';

const a = spec('a');
const b = spec('b');
const c = spec('c');
const d = spec('d');

test('creations wait for their preparation; other commands of the same group run', () => {
  const groups: Command[][] = [
    [
      { kind: 'create', spec: a },
      { kind: 'start', name: 'a' },
      { kind: 'restart', name: 'b' },
    ],
  ];
  const { groups: kept, waiting } = deferUnprepared(groups, (s) => s.name !== 'a');
  assert.deepEqual(kept, [[{ kind: 'restart', name: 'b' }]]);
  assert.deepEqual([...waiting], [['a', 'preparing']]);
});

test('a recreate that waits leaves the current module alone', () => {
  const { groups, waiting } = deferUnprepared([[{ kind: 'recreate', spec: a }]], () => false);
  assert.deepEqual(groups, [[]]);
  assert.equal(waiting.get('a'), 'preparing');
});

test('later startupOrder groups create nothing while an earlier one waits, but keep supervising', () => {
  const asked: string[] = [];
  const groups: Command[][] = [
    [{ kind: 'create', spec: a }],
    [
      { kind: 'create', spec: b },
      { kind: 'start', name: 'b' },
      { kind: 'restart', name: 'c' },
      { kind: 'create', spec: d },
    ],
  ];
  const result = deferUnprepared(groups, (s) => {
    asked.push(s.name);
    return s.name !== 'a' && s.name !== 'd';
  });
  assert.deepEqual(result.groups, [[], [{ kind: 'restart', name: 'c' }]]);
  assert.deepEqual(Object.fromEntries(result.waiting), {
    a: 'preparing',
    b: 'earlier-group',
    d: 'preparing',
  });
  assert.deepEqual(asked, ['a', 'b', 'd'], 'every pull starts at once, whatever its group');
});

test('a plan with everything prepared is unchanged', () => {
  const groups: Command[][] = [[{ kind: 'create', spec: a }], [{ kind: 'create', spec: c }]];
  assert.deepEqual(
    deferUnprepared(groups, () => true),
    { groups, waiting: new Map() },
  );
});

function preparing(outcomes: ((s: ModuleSpec) => Promise<void>)[]) {
  const calls: string[] = [];
  let now = new Date(0);
  let settled = 0;
  const runtime = {
    prepare: (s: ModuleSpec) => {
      calls.push(s.name);
      return outcomes.shift()!(s);
    },
  } as unknown as ModuleRuntime;
  const preparation = new Preparation({
    runtimeFor: () => runtime,
    onSettled: () => settled++,
    now: () => now,
    retryMs: 30_000,
    log: () => undefined,
  });
  return {
    preparation,
    calls,
    settled: () => settled,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test('one preparation per module and configuration; the failure is kept until the retry is due', async () => {
  const pulls = preparing([() => Promise.reject(new Error('pull failed')), () => Promise.resolve()]);
  assert.deepEqual(pulls.preparation.readiness(a), { kind: 'pending' });
  assert.deepEqual(pulls.preparation.readiness(a), { kind: 'pending' });
  await pulls.preparation.whenSettled(['a'], 1000);
  const failed: Readiness = { kind: 'failed', message: 'pull failed' };
  assert.deepEqual(pulls.preparation.readiness(a), failed);
  assert.equal(pulls.settled(), 1);
  pulls.advance(29_999);
  assert.deepEqual(pulls.preparation.readiness(a), failed);
  pulls.advance(1);
  assert.deepEqual(pulls.preparation.readiness(a), { kind: 'pending' });
  await flush();
  assert.deepEqual(pulls.preparation.readiness(a), { kind: 'ready' });
  assert.deepEqual(pulls.calls, ['a', 'a']);
});

test('a new configuration starts a new preparation and the old outcome is dropped', async () => {
  let release = () => undefined as void;
  const pulls = preparing([
    () => new Promise<void>((resolve) => (release = resolve)),
    () => Promise.resolve(),
  ]);
  pulls.preparation.readiness(a);
  const changed = { ...a, configHash: 'another' };
  pulls.preparation.readiness(changed);
  await flush();
  assert.deepEqual(pulls.preparation.readiness(changed), { kind: 'ready' });
  release();
  await flush();
  assert.equal(pulls.settled(), 1, 'the outdated pull settles silently');
});

test('retryFailures makes a new deployment try again at once', async () => {
  const pulls = preparing([() => Promise.reject(new Error('no')), () => Promise.resolve()]);
  pulls.preparation.readiness(a);
  await flush();
  assert.equal(pulls.preparation.peek('a')?.kind, 'failed');
  pulls.preparation.retryFailures();
  assert.equal(pulls.preparation.peek('a'), undefined);
  pulls.preparation.readiness(a);
  await flush();
  assert.equal(pulls.preparation.peek('a')?.kind, 'ready');
});

test('runtimes without prepare are always ready', () => {
  const preparation = new Preparation({
    runtimeFor: () => ({}) as ModuleRuntime,
    onSettled: () => undefined,
    now: () => new Date(),
    retryMs: 1,
    log: () => undefined,
  });
  assert.deepEqual(preparation.readiness(a), { kind: 'ready' });
});
