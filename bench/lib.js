// Shared by the benchmark scripts: interleaved timing of commands, medians, the machine, the report.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * Runs every subject once per round, interleaved, so machine noise hits all alike; the first two
 * rounds warm the file cache and are not counted. Returns rows with medians and ratios to the first.
 */
export function timeInterleaved(subjects, rounds, env = process.env) {
  const samples = subjects.map(() => []);
  for (let round = -2; round < rounds; round += 1) {
    subjects.forEach((subject, index) => {
      const start = process.hrtime.bigint();
      const run = spawnSync(process.execPath, subject.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (run.status !== 0) throw new Error(`${subject.name} exited ${run.status}: ${run.stderr}`);
      if (round >= 0) samples[index].push(ms);
    });
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const anchor = median(samples[0]);
  return subjects.map((subject, index) => ({
    command: subject.name,
    median_ms: Number(median(samples[index]).toFixed(1)),
    ratio_to_node: Number((median(samples[index]) / anchor).toFixed(2)),
  }));
}

export function machine() {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${process.arch}`,
  };
}

/** The 1-minute load average: other work on a shared machine shows in the figures. */
export function loadAverage() {
  return Number(os.loadavg()[0].toFixed(2));
}

/** The path of bench/results/<file>. */
export function resultsFile(file) {
  return fileURLToPath(new URL(`results/${file}`, import.meta.url));
}

/** Writes a results page, keeping the `## Findings` section written by hand in its previous version. */
export function writeMarkdownKeepingFindings(file, markdown) {
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const findings = previous.indexOf('\n## Findings');
  writeFileSync(file, markdown + (findings >= 0 ? previous.slice(findings) : ''));
}

export function markdownTable(rows) {
  return [
    '| command | median ms | × node -e 0 |',
    '|---|---:|---:|',
    ...rows.map((row) => `| ${row.command} | ${row.median_ms} | ${row.ratio_to_node} |`),
  ].join('\n');
}

/** Writes results/<name>.json and results/<name>.md: a title, the machine, the table, notes. */
export function writeResults(name, { title, rounds, rows, extra = {}, notes = '' }) {
  const result = { date: new Date().toISOString(), rounds, machine: machine(), rows, ...extra };
  const m = result.machine;
  const markdown =
    `# ${title}\n\n${result.date}, ${rounds} interleaved rounds.\n\n` +
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node}, ${m.platform}.\n\n` +
    `${markdownTable(rows)}\n\n${notes}`;
  writeFileSync(resultsFile(`${name}.json`), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(resultsFile(`${name}.md`), markdown);
  console.log(markdownTable(rows));
  return result;
}

/** Bytes of an SQLite database with its WAL and shared-memory files (the ones that exist). */
export const fileBytes = (file) =>
  ['', '-wal', '-shm'].reduce((sum, suffix) => {
    try {
      return sum + statSync(file + suffix).size;
    } catch {
      return sum;
    }
  }, 0);

/**
 * Waits until the database's files stop shrinking (no change for `quietMs`, at most `timeoutMs`)
 * and resolves with the seconds until their last change: how long the store's cleanup took to give
 * its space back. (The hub holds its database exclusively: no second connection may count rows.)
 */
export async function cleanupSeconds(file, { quietMs = 3000, timeoutMs = 300_000 } = {}) {
  const start = Date.now();
  let size = fileBytes(file);
  let changedAt = start;
  while (Date.now() - changedAt < quietMs && Date.now() - start < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = fileBytes(file);
    if (now !== size) {
      size = now;
      changedAt = Date.now();
    }
  }
  return (changedAt - start) / 1000;
}
