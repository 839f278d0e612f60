import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GroupCommit } from '../../src/runtime/group-commit.js';

/** A task whose runs the test ends one by one, each with success or an error. */
function controlledTask() {
  const runs: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const task = () => new Promise<void>((resolve, reject) => runs.push({ resolve, reject }));
  const next = async () => {
    for (let i = 0; i < 100 && runs.length === 0; i++) await new Promise((r) => setImmediate(r));
    const run = runs.shift();
    assert.ok(run, 'a run was started');
    return run;
  };
  return { task, next, pending: () => runs.length };
}

test('calls during a run share the one run after it', async () => {
  const { task, next } = controlledTask();
  const commits = new GroupCommit(task);
  const first = commits.run();
  const firstRun = await next();
  const joined = [commits.run(), commits.run(), commits.run()];
  assert.equal(joined[0], joined[1], 'the same run');
  firstRun.resolve();
  await first;
  (await next()).resolve();
  await Promise.all(joined);
});

test('a failed run rejects its callers and the next run is tried afresh', async () => {
  const { task, next } = controlledTask();
  const errors: Error[] = [];
  const recovered: number[] = [];
  const commits = new GroupCommit(task, {
    onError: (error) => errors.push(error),
    onRecovered: (failures) => recovered.push(failures),
  });
  const failing = commits.run();
  (await next()).reject(new Error('ENOSPC'));
  await assert.rejects(failing, /ENOSPC/);
  const again = commits.run();
  (await next()).reject(new Error('ENOSPC again'));
  await assert.rejects(again, /ENOSPC again/);
  assert.deepEqual(
    errors.map((error) => error.message),
    ['ENOSPC'],
    'told once per streak of failures',
  );
  const working = commits.run();
  (await next()).resolve();
  await working;
  assert.deepEqual(recovered, [2]);
});

test('a failure nobody repeats is tried again after retryMs; ignoring the outcome is safe', async () => {
  let runs = 0;
  let failing = true;
  const commits = new GroupCommit(
    async () => {
      runs++;
      if (failing) throw new Error('EIO');
    },
    { retryMs: 20 },
  );
  // nobody handles this promise: a rejection here must not be an unhandled one
  void commits.run();
  await new Promise((resolve) => setTimeout(resolve, 5));
  failing = false;
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(runs, 2, 'retried once, and not again after it succeeded');
});

test('flush waits for the runs asked for, tries a failed one once more, and never rejects', async () => {
  let fail = true;
  let runs = 0;
  const commits = new GroupCommit(async () => {
    runs++;
    if (fail) throw new Error('EIO');
  });
  await assert.rejects(commits.run());
  fail = false;
  await commits.flush();
  assert.equal(runs, 2);
  fail = true;
  await assert.rejects(commits.run());
  await commits.flush();
  assert.equal(runs, 4);
});
