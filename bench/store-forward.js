#!/usr/bin/env node
// Store-and-forward through the durable message store: N messages of 256 bytes appended to
// `$upstream`'s store (the SQLite file iotedged uses, group commit) with at most --window appends
// waiting for their commit (senders waiting for their PUBACK), then drained through a target that
// acknowledges each message at once. Each durability runs in a child process of its own, so that
// its peak RSS is its own: `synced` (iotedged's: SQLite `synchronous` NORMAL in WAL mode, and the WAL
// fdatasynced off the event loop before appends resolve), `full` (`synchronous` FULL: SQLite fsyncs
// inside each commit) and `normal` (`synchronous` NORMAL alone, no fsync before acknowledging).
//
// Usage: npm run build && node bench/store-forward.js [--messages 1000000] [--window 10000]
//          [--durability synced,full,normal]            (writes bench/results/store-forward.{json,md})
// The drain to a real parent (iotedged's upstream link to a parent daemon) belongs in
// `drainTarget()` once that link exists; today the target acknowledges at once.
import { spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import Database from 'better-sqlite3';

import { SqliteMessageStores } from '../dist/src/runtime/hub/endpoints/sqlite/sqlite-stores.js';
import { UpstreamEndpoint } from '../dist/src/runtime/hub/endpoints/upstream.js';
import { loadAverage, machine, resultsFile, writeMarkdownKeepingFindings } from './lib.js';

const { values: flags } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    window: { type: 'string', default: '10000' },
    durability: { type: 'string', default: 'synced,full,normal' },
    child: { type: 'string' },
  },
});
const MESSAGES = Number(flags.messages);
const WINDOW = Number(flags.window);
const PAYLOAD_BYTES = 256;
const TARGET_MSG_PER_S = 20_000;

/** What the drain sends to: acknowledges at once. The upstream link to a parent daemon goes here. */
function drainTarget() {
  return { deliver: () => Promise.resolve() };
}

const fileBytes = (file) =>
  ['', '-wal', '-shm'].reduce((sum, suffix) => {
    try {
      return sum + statSync(file + suffix).size;
    } catch {
      return sum;
    }
  }, 0);

const cpuSeconds = (usage) => (usage.user + usage.system) / 1e6;

/** One durability setting, in this process: fill, drain, clean up. */
async function runChild(durability) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'store-forward-'));
  const file = path.join(dir, 'hub', 'messages.db');
  try {
    const stores = new SqliteMessageStores({ file, durability });
    const upstream = new UpstreamEndpoint(stores.open('$upstream', () => undefined));
    const body = Buffer.alloc(PAYLOAD_BYTES, 'x');
    const message = (n) => ({
      body,
      properties: { n: String(n) },
      systemProperties: { connectionDeviceId: 'edge-1', connectionModuleId: 'sender', outputName: 'out1' },
      source: '/messages/modules/sender/outputs/out1',
    });

    // fill: WINDOW appends waiting for their commit at a time
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const sender = async () => {
      while (next < MESSAGES) await upstream.enqueue(message(next++), { priority: 0, timeToLiveSecs: 7200 });
    };
    await Promise.all(Array.from({ length: WINDOW }, sender));
    const fillSeconds = (performance.now() - t0) / 1000;
    const fillCpu = cpuSeconds(process.cpuUsage(cpu0));
    const filledBytes = fileBytes(file);
    const held = upstream.pending;

    // drain: the target acknowledges at once
    const cpu1 = process.cpuUsage();
    const t1 = performance.now();
    upstream.attach(drainTarget());
    while (upstream.pending > 0) await new Promise((resolve) => setTimeout(resolve, 2));
    const drainSeconds = (performance.now() - t1) / 1000;
    const drainCpu = cpuSeconds(process.cpuUsage(cpu1));

    // cleanup: the periodic cleanup deletes in batches (watched through a second, read-only
    // connection) and gives free pages back; closing finishes what is left
    const t2 = performance.now();
    const watcher = new Database(file, { readonly: true });
    const rows = watcher.prepare('SELECT count(*) AS n FROM messages');
    while (rows.get().n > 0 && performance.now() - t2 < 300_000)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const cleanupSeconds = (performance.now() - t2) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    watcher.close();
    const afterCleanupBytes = fileBytes(file);
    stores.close();
    const afterCloseBytes = fileBytes(file);
    return {
      durability,
      messages: MESSAGES,
      held_after_fill: held,
      enqueue_msg_per_s: Math.round(MESSAGES / fillSeconds),
      enqueue_cpu_us_per_msg: Number(((fillCpu / MESSAGES) * 1e6).toFixed(1)),
      drain_msg_per_s: Math.round(MESSAGES / drainSeconds),
      drain_cpu_us_per_msg: Number(((drainCpu / MESSAGES) * 1e6).toFixed(1)),
      peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
      disk_bytes_filled: filledBytes,
      disk_bytes_per_msg: Math.round(filledBytes / MESSAGES),
      cleanup_seconds: Number(cleanupSeconds.toFixed(1)),
      disk_bytes_after_cleanup: afterCleanupBytes,
      disk_bytes_after_close: afterCloseBytes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (flags.child) {
  process.stdout.write(JSON.stringify(await runChild(flags.child)));
  process.exit(0);
}

const LOAD_BEFORE = loadAverage();
const rows = flags.durability.split(',').map((durability) => {
  const run = spawnSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      '--child',
      durability,
      '--messages',
      String(MESSAGES),
      '--window',
      String(WINDOW),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (run.status !== 0) throw new Error(`${durability}: exited ${run.status}: ${run.stderr}`);
  const row = JSON.parse(run.stdout);
  console.log(row);
  return row;
});

const result = {
  date: new Date().toISOString(),
  machine: machine(),
  load_average: { before: LOAD_BEFORE, after: loadAverage() },
  parameters: { messages: MESSAGES, payload_bytes: PAYLOAD_BYTES, window: WINDOW, endpoint: '$upstream' },
  rows,
  targets: {
    msg_per_s_min: TARGET_MSG_PER_S,
    met: Object.fromEntries(
      rows.map((row) => [
        row.durability,
        row.enqueue_msg_per_s >= TARGET_MSG_PER_S && row.drain_msg_per_s >= TARGET_MSG_PER_S,
      ]),
    ),
  },
};

const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
const m = result.machine;
const markdown =
  `# Store and forward: the durable message store\n\n` +
  `${result.date}. Run with \`npm run build && node bench/store-forward.js\` (options: \`--messages ${MESSAGES} --window ${WINDOW} --durability synced,full,normal\`).\n\n` +
  `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node}, ${m.platform}; ` +
  `load average ${result.load_average.before} before the run, ${result.load_average.after} after.\n\n` +
  `${MESSAGES} messages of ${PAYLOAD_BYTES} bytes (with 1 application property and 3 system properties) ` +
  `enqueued to \`$upstream\` through its endpoint into the SQLite store (one file, WAL, group commit: ` +
  `a commit once the event loop has handled the input already in, or at 1000 messages), ${WINDOW} appends waiting for their commit at a time; then drained ` +
  `through a target that acknowledges at once (64 in flight, the upstream window). Each durability runs in a ` +
  `process of its own (peak RSS is the process's).\n\n` +
  `| durability | enqueue msg/s | CPU µs/msg | drain msg/s | CPU µs/msg | peak RSS MiB | disk filled MiB | disk B/msg | cleanup s (after the drain) | 2 s later MiB | after close MiB |\n` +
  `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n` +
  rows
    .map(
      (r) =>
        `| ${r.durability} | ${r.enqueue_msg_per_s} | ${r.enqueue_cpu_us_per_msg} | ${r.drain_msg_per_s} | ` +
        `${r.drain_cpu_us_per_msg} | ${r.peak_rss_mib} | ${mib(r.disk_bytes_filled)} | ${r.disk_bytes_per_msg} | ` +
        `${r.cleanup_seconds} | ${mib(r.disk_bytes_after_cleanup)} | ${mib(r.disk_bytes_after_close)} |`,
    )
    .join('\n') +
  `\n\nTarget ≥ ${TARGET_MSG_PER_S} msg/s enqueue and drain: ` +
  rows.map((r) => `${r.durability} ${result.targets.met[r.durability] ? 'met' : 'not met'}`).join(', ') +
  '.\n';
writeFileSync(resultsFile('store-forward.json'), JSON.stringify(result, null, 2) + '\n');
writeMarkdownKeepingFindings(resultsFile('store-forward.md'), markdown);
