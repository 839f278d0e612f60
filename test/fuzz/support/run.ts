/** Runs fuzz targets as node:test tests, seeded and sized by settings.ts. */
import { test } from 'node:test';

import fc from 'fast-check';

import { fuzzPath, fuzzRuns, fuzzSeed, HANG_MS } from './settings.js';
import { propertyOf, type FuzzTarget } from './target.js';

/** Fails a case whose check took longer than HANG_MS: it ended, but would have stalled a daemon. */
function hangChecked(check: (value: unknown) => void | Promise<void>) {
  return (value: unknown): void | Promise<void> => {
    const start = performance.now();
    const ended = () => {
      const elapsed = performance.now() - start;
      if (elapsed > HANG_MS) {
        throw new Error(`one case took ${Math.round(elapsed)} ms, over the ${HANG_MS} ms hang limit`);
      }
    };
    const result = check(value);
    if (result instanceof Promise) return result.then(ended);
    ended();
  };
}

/** Runs `fuzz` with the seed and number of cases of this run; throws fast-check's report on a failure. */
export async function runTarget(fuzz: FuzzTarget, runs = fuzzRuns(fuzz.runs)): Promise<void> {
  const path = fuzzPath();
  await fc.assert(propertyOf(fuzz, hangChecked), {
    numRuns: runs,
    seed: fuzzSeed(),
    includeErrorInReport: true,
    ...(path === undefined ? {} : { path, endOnFailure: true }),
    examples: (fuzz.examples ?? []).map((example) => [example] as [unknown]),
  });
}

/** One test per target. */
export function fuzzTests(targets: readonly FuzzTarget[]): void {
  for (const fuzz of targets)
    test(fuzz.name, fuzz.known === undefined ? {} : { todo: fuzz.known }, () => runTarget(fuzz));
}
