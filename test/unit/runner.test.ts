import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChecks } from '../../src/checks/runner.js';
import type { CheckDefinition, CheckResult } from '../../src/checks/types.js';
import { fatal, ok, warning } from '../../src/checks/types.js';
import { testInputs } from '../helpers/check-context.js';

const inputs = testInputs();

function collect(checks: CheckDefinition[], extra: Partial<Parameters<typeof runChecks>[0]> = {}) {
  const emitted: [string, CheckResult['kind']][] = [];
  const run = runChecks({ checks, inputs, onResult: (id, r) => emitted.push([id, r.kind]), ...extra });
  return run.then((summary) => ({ summary, emitted }));
}

const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    });
  });

test('results are emitted in catalog order even when later checks finish first', async () => {
  const { emitted } = await collect([
    { id: 'slow', run: async () => (await delay(50), ok()) },
    { id: 'fast', run: async () => ok() },
  ]);
  assert.deepEqual(emitted, [
    ['slow', 'ok'],
    ['fast', 'ok'],
  ]);
});

test('independent checks run concurrently', async () => {
  let running = 0;
  let peak = 0;
  const body = async () => {
    running += 1;
    peak = Math.max(peak, running);
    await delay(30);
    running -= 1;
    return ok();
  };
  await collect([
    { id: 'a', run: body },
    { id: 'b', run: body },
    { id: 'c', run: body },
  ]);
  assert.equal(peak, 3);
});

test('a check waits for the fact it needs and reads it', async () => {
  let seen: unknown;
  await collect([
    {
      id: 'producer',
      provides: ['iothubHostname'],
      run: async (ctx) => {
        await delay(20);
        ctx.provide('iothubHostname', 'hub.example');
        return ok();
      },
    },
    {
      id: 'consumer',
      needs: ['iothubHostname'],
      run: async (ctx) => {
        seen = ctx.fact('iothubHostname');
        return ok();
      },
    },
  ]);
  assert.equal(seen, 'hub.example');
});

test('a check whose producer did not provide its fact is skipped', async () => {
  const { emitted } = await collect([
    { id: 'producer', provides: ['settings'], run: async () => warning('no settings') },
    { id: 'consumer', needs: ['settings'], run: async () => ok() },
  ]);
  assert.deepEqual(emitted, [
    ['producer', 'warning'],
    ['consumer', 'skipped'],
  ]);
});

test('seeded facts win over the producer and are available at once', async () => {
  let seen: unknown;
  await collect(
    [
      {
        id: 'producer',
        provides: ['iothubHostname'],
        run: async (ctx) => (ctx.provide('iothubHostname', 'from-config'), ok()),
      },
      {
        id: 'consumer',
        needs: ['iothubHostname'],
        run: async (ctx) => ((seen = ctx.fact('iothubHostname')), ok()),
      },
    ],
    { seedFacts: { iothubHostname: 'from-flag' } },
  );
  assert.equal(seen, 'from-flag');
});

test('a fallback fact gives way to the producer, and stands in when the producer provides none', async () => {
  const hubCheck = (provide: boolean): CheckDefinition => ({
    id: 'producer',
    provides: ['iothubHostname'],
    run: async (ctx) => {
      if (provide) ctx.provide('iothubHostname', 'from-config');
      return provide ? ok() : warning('no hub in the configuration');
    },
  });
  const seen: unknown[] = [];
  const consumer: CheckDefinition = {
    id: 'consumer',
    needs: ['iothubHostname'],
    run: async (ctx) => (seen.push(ctx.fact('iothubHostname')), ok()),
  };
  const fallbackFacts = { iothubHostname: 'from-flag' };
  await collect([hubCheck(true), consumer], { fallbackFacts });
  await collect([hubCheck(false), consumer], { fallbackFacts });
  await collect([hubCheck(true), consumer], { fallbackFacts, dontRun: new Set(['producer']) });
  await collect([consumer], { fallbackFacts });
  assert.deepEqual(seen, ['from-config', 'from-flag', 'from-flag', 'from-flag']);
});

test('--dont-run ids are ignored and their facts are unavailable', async () => {
  let ran = false;
  const { emitted } = await collect(
    [
      { id: 'producer', provides: ['settings'], run: async () => ((ran = true), ok()) },
      { id: 'consumer', needs: ['settings'], run: async () => ok() },
    ],
    { dontRun: new Set(['producer']) },
  );
  assert.equal(ran, false);
  assert.deepEqual(emitted, [
    ['producer', 'ignored'],
    ['consumer', 'skipped'],
  ]);
});

test('a fatal result stops the run: later checks are aborted and not reported', async () => {
  let laterAborted = false;
  const { emitted, summary } = await collect([
    { id: 'first', run: async () => (await delay(30), ok()) },
    { id: 'fatal', run: async () => fatal('permission denied') },
    {
      id: 'later',
      run: async (ctx) => {
        try {
          await delay(5_000, ctx.signal);
        } catch {
          laterAborted = true;
        }
        return ok();
      },
    },
  ]);
  assert.deepEqual(emitted, [
    ['first', 'ok'],
    ['fatal', 'fatal'],
  ]);
  assert.deepEqual(
    summary.records.map((r) => r.id),
    ['first', 'fatal'],
  );
  assert.equal(laterAborted, true);
});

test('a check that exceeds its timeout fails and its signal is aborted', async () => {
  let aborted = false;
  const { summary } = await collect([
    {
      id: 'hangs',
      timeoutMs: 50,
      run: async (ctx) => {
        ctx.signal.addEventListener('abort', () => (aborted = true));
        return new Promise<CheckResult>(() => {});
      },
    },
  ]);
  const result = summary.records[0].result;
  assert.equal(result.kind, 'failed');
  assert.match('message' in result ? result.message : '', /did not finish within 0.05 seconds/);
  assert.equal(aborted, true);
});

test('a check that throws fails with the error chain', async () => {
  const { summary } = await collect([
    {
      id: 'throws',
      run: async () => {
        throw new Error('outer', { cause: new Error('inner') });
      },
    },
  ]);
  assert.deepEqual(summary.records[0].result, { kind: 'failed', message: 'outer', causes: ['inner'] });
});

test('resources are computed once, after their needs, and failures fail the dependants', async () => {
  let builds = 0;
  const { summary } = await collect(
    [
      { id: 'engine', provides: ['docker'], run: async (ctx) => (ctx.provide('docker', {} as never), ok()) },
      { id: 'a', needs: ['diagnosticsImage'], run: async (ctx) => (ctx.fact('diagnosticsImage'), ok()) },
      { id: 'b', needs: ['diagnosticsImage'], run: async () => ok() },
    ],
    {
      resources: {
        diagnosticsImage: {
          needs: ['docker'],
          timeoutMs: 1000,
          label: 'the diagnostics image',
          compute: async () => {
            builds += 1;
            return 'diag:1';
          },
        },
      },
    },
  );
  assert.equal(builds, 1);
  assert.deepEqual(
    summary.records.map((r) => r.result.kind),
    ['ok', 'ok', 'ok'],
  );

  const failing = await collect([{ id: 'a', needs: ['diagnosticsImage'], run: async () => ok() }], {
    seedFacts: { docker: {} as never },
    resources: {
      diagnosticsImage: {
        needs: ['docker'],
        timeoutMs: 1000,
        label: 'the diagnostics image',
        compute: async () => {
          throw new Error('no space left on device');
        },
      },
    },
  });
  assert.deepEqual(failing.summary.records[0].result, {
    kind: 'failed',
    message: 'Could not prepare the diagnostics image',
    causes: ['no space left on device'],
  });
});
