/**
 * The long mode of the fuzz suite (`npm run fuzz`): every pure-parser target for up to FUZZ_RUNS
 * cases (default 1,000,000) or FUZZ_SECONDS seconds (default 30), each in a worker thread watched
 * for hangs. Prints cases per second and findings per target and writes bench/results/fuzz.md.
 * A failure or hang makes the exit code 1; its report says how to replay it in the test command.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

import { fuzzSeed } from './support/settings.js';
import type { FuzzTarget } from './support/target.js';
import { FAMILIES } from './targets/index.js';
import type { WorkerInput, WorkerResult } from './long-worker.js';

interface Row {
  family: string;
  name: string;
  cases: number;
  seconds: number;
  finding?: string;
  /** The target is marked with an open finding (FuzzTarget.known). */
  known: boolean;
}

function integerEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

const RUNS = integerEnv('FUZZ_RUNS', 1_000_000);
const SECONDS = integerEnv('FUZZ_SECONDS', 30);
/** A case that makes no progress for this long is a hang: its worker is stopped. */
const HANG_SECONDS = integerEnv('FUZZ_HANG_SECONDS', 30);
const SEED = fuzzSeed();
/** `FUZZ_ONLY`: run only the targets whose name contains it. */
const ONLY = process.env.FUZZ_ONLY ?? '';

function runInWorker(family: string, module: string, fuzz: FuzzTarget): Promise<Row> {
  const known = fuzz.known !== undefined;
  const counter = new SharedArrayBuffer(4);
  const cases = new Int32Array(counter);
  const input: WorkerInput = { module, name: fuzz.name, runs: RUNS, seed: SEED, seconds: SECONDS, counter };
  const worker = new Worker(new URL('./long-worker.js', import.meta.url), { workerData: input });
  const started = performance.now();
  return new Promise((resolve) => {
    let seen = 0;
    let still = 0;
    const watch = setInterval(() => {
      const now = Atomics.load(cases, 0);
      still = now === seen ? still + 1 : 0;
      seen = now;
      if (still < HANG_SECONDS) return;
      clearInterval(watch);
      void worker.terminate();
      const path = Math.max(0, now - 1);
      resolve({
        family,
        name: fuzz.name,
        known,
        cases: now,
        seconds: (performance.now() - started) / 1000,
        finding: `hang: case ${now} made no progress for ${HANG_SECONDS} s; replay: FUZZ_SEED=${SEED} FUZZ_PATH=${path}`,
      });
    }, 1000);
    worker.once('message', (result: WorkerResult) => {
      clearInterval(watch);
      resolve({
        family,
        name: fuzz.name,
        known,
        cases: result.cases,
        seconds: result.ms / 1000,
        finding: result.report,
      });
    });
    worker.once('error', (error) => {
      clearInterval(watch);
      resolve({
        family,
        name: fuzz.name,
        known,
        cases: seen,
        seconds: (performance.now() - started) / 1000,
        finding: `worker crashed: ${error.message}`,
      });
    });
  });
}

const rate = (row: Row) => Math.round(row.cases / Math.max(row.seconds, 1e-3));

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, nproc ${os.availableParallelism()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.type()} ${os.release()} ${process.arch}`;
}

/** A report without the stack frames of the error it quotes. */
const withoutStack = (report: string) =>
  report
    .split('\n')
    .filter((line) => !/^\s+at /.test(line))
    .join('\n');

function markdown(rows: Row[], started: Date): string {
  const total = rows.reduce((sum, row) => sum + row.cases, 0);
  const seconds = rows.reduce((sum, row) => sum + row.seconds, 0);
  const findings = rows.filter((row) => row.finding !== undefined);
  return [
    '# Fuzzing: the long mode',
    '',
    `${started.toISOString()}: \`npm run fuzz\` with FUZZ_SEED=${SEED}, FUZZ_RUNS=${RUNS}, FUZZ_SECONDS=${SECONDS}` +
      ` (each target stops at whichever comes first), one target at a time in a worker thread.`,
    '',
    `Machine: ${machine()}.`,
    '',
    `${total.toLocaleString('en-US')} cases in ${Math.round(seconds)} s; ${findings.length} finding(s).`,
    '',
    '| parser family | target | cases | cases/s | finding |',
    '|---|---|---:|---:|---|',
    ...rows.map(
      (row) =>
        `| ${row.family} | ${row.name} | ${row.cases.toLocaleString('en-US')} | ${rate(row).toLocaleString('en-US')} | ${row.finding === undefined ? 'none' : row.known ? 'known, see below' : 'see below'} |`,
    ),
    '',
    ...findings.flatMap((row) => [
      `## ${row.name}`,
      '',
      '```',
      withoutStack(row.finding!).slice(0, 4000),
      '```',
      '',
    ]),
  ].join('\n');
}

const started = new Date();
const rows: Row[] = [];
console.log(`fuzz: seed ${SEED}, up to ${RUNS} cases or ${SECONDS} s per target`);
for (const [family, path] of Object.entries(FAMILIES)) {
  const module = new URL(`./targets/${path.slice(2)}`, import.meta.url).href;
  const { targets } = (await import(module)) as { targets: FuzzTarget[] };
  for (const fuzz of targets) {
    if (!fuzz.name.includes(ONLY)) continue;
    const row = await runInWorker(family, module, fuzz);
    rows.push(row);
    const verdict = row.finding === undefined ? 'ok' : row.known ? 'known finding' : 'FINDING';
    console.log(
      `${verdict.padEnd(13)} ${rate(row).toString().padStart(8)} cases/s ${row.cases.toString().padStart(9)} cases  ${fuzz.name}`,
    );
    if (row.finding !== undefined) console.log(row.finding.split('\n').slice(0, 6).join('\n'));
  }
}
const file = new URL('../../../bench/results/fuzz.md', import.meta.url);
writeFileSync(file, markdown(rows, started));
console.log(`results: ${file.pathname}`);
process.exitCode = rows.some((row) => row.finding !== undefined && !row.known) ? 1 : 0;
