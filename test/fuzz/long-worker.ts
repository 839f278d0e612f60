/**
 * Runs one fuzz target in a worker thread for the long mode: counts cases in shared memory (so
 * the main thread sees progress, and a case that never ends) and posts fast-check's verdict.
 */
import { parentPort, workerData } from 'node:worker_threads';

import fc from 'fast-check';

import { propertyOf, type FuzzTarget } from './support/target.js';

export interface WorkerInput {
  module: string;
  name: string;
  runs: number;
  seed: number;
  seconds: number;
  /** One Int32: cases started so far. */
  counter: SharedArrayBuffer;
}

export interface WorkerResult {
  cases: number;
  ms: number;
  failed: boolean;
  report?: string;
}

const input = workerData as WorkerInput;
const counter = new Int32Array(input.counter);
const { targets } = (await import(input.module)) as { targets: FuzzTarget[] };
const fuzz = targets.find((candidate) => candidate.name === input.name)!;

const counted = (check: (value: unknown) => void | Promise<void>) => (value: unknown) => {
  Atomics.add(counter, 0, 1);
  return check(value);
};

const start = performance.now();
const details = await fc.check(propertyOf(fuzz, counted), {
  numRuns: input.runs,
  seed: input.seed,
  includeErrorInReport: true,
  plugins: [fc.interruptAfterTimeLimit(input.seconds * 1000)],
});
let report: string | undefined;
if (details.failed) {
  try {
    report = fc.defaultReportMessage(details);
  } catch {
    report = `failed at path ${details.counterexamplePath} (the counterexample is too deep to print)`;
  }
}
const result: WorkerResult = {
  cases: details.numRuns,
  ms: performance.now() - start,
  failed: details.failed,
  report,
};
parentPort!.postMessage(result);
