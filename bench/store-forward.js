#!/usr/bin/env node
// Store-and-forward through the durable message store, in two scenarios.
//
// In process: N messages of 256 bytes appended to `$upstream`'s store (the SQLite file iotedged
// uses, group commit) with at most --window appends waiting for their commit (senders waiting for
// their PUBACK), then drained through a target that acknowledges each message at once. Each
// durability runs in a child process of its own, so that its peak RSS is its own: `synced`
// (iotedged's: SQLite `synchronous` NORMAL in WAL mode, and the WAL fdatasynced off the event loop
// before appends resolve), `full` (`synchronous` FULL: SQLite fsyncs inside each commit) and
// `normal` (`synchronous` NORMAL alone, no fsync before acknowledging).
//
// Daemons: two real iotedged on loopback (bench/store-forward-daemons.js): a child whose
// `$upstream` fills through its hub over MQTT/TLS while its parent is down, then drains to the
// parent once it starts.
//
// Usage: npm run build && node bench/store-forward.js [--scenarios in-process,daemons]
//          [--messages 1000000] [--window 10000] [--durability synced,full,normal]
//          [--daemon-messages 200000] [--publish-window 256] [--parent-route drop|module]
//          [--upstream Mqtt|Amqp]
//          [--profile-child <dir>]
// (writes bench/results/store-forward.{json,md}; a scenario not run keeps its previous figures).
// --profile-child runs the child iotedged under `node --cpu-prof`, prints where its time went and
// writes no results.
import { spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { SqliteMessageStores } from '../dist/src/runtime/hub/endpoints/sqlite/sqlite-stores.js';
import { UpstreamEndpoint } from '../dist/src/runtime/hub/endpoints/upstream.js';
import { runDaemons } from './store-forward-daemons.js';
import {
  cleanupSeconds,
  fileBytes,
  loadAverage,
  machine,
  resultsFile,
  writeMarkdownKeepingFindings,
} from './lib.js';

const { values: flags } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    window: { type: 'string', default: '10000' },
    durability: { type: 'string', default: 'synced,full,normal' },
    scenarios: { type: 'string', default: 'in-process,daemons' },
    'daemon-messages': { type: 'string', default: '200000' },
    'publish-window': { type: 'string', default: '256' },
    'parent-route': { type: 'string', default: 'drop' },
    upstream: { type: 'string', default: 'Mqtt' },
    'profile-child': { type: 'string' },
    child: { type: 'string' },
  },
});
const MESSAGES = Number(flags.messages);
const WINDOW = Number(flags.window);
const PAYLOAD_BYTES = 256;
const TARGET_MSG_PER_S = 20_000;

/** What the in-process drain sends to: acknowledges at once (the daemons scenario drains to a real parent). */
function drainTarget() {
  return { deliver: () => Promise.resolve() };
}

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

    // cleanup: the periodic cleanup deletes in batches and gives free pages back (watched by the
    // file's size: the hub holds the database exclusively, so no second connection may read it);
    // closing finishes what is left
    const cleanup = await cleanupSeconds(file);
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
      cleanup_seconds: Number(cleanup.toFixed(1)),
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

const SCENARIOS = flags.scenarios.split(',');
for (const scenario of SCENARIOS)
  if (!['in-process', 'daemons'].includes(scenario))
    throw new Error(`--scenarios: unknown scenario "${scenario}", expected in-process or daemons`);
if (!['Mqtt', 'Amqp'].includes(flags.upstream))
  throw new Error(`--upstream: unknown value "${flags.upstream}", expected Mqtt or Amqp`);
if (!['drop', 'module'].includes(flags['parent-route']))
  throw new Error(`--parent-route: unknown value "${flags['parent-route']}", expected drop or module`);

const LOAD_BEFORE = loadAverage();
const previous = existsSync(resultsFile('store-forward.json'))
  ? JSON.parse(readFileSync(resultsFile('store-forward.json'), 'utf8'))
  : {};

function runInProcess() {
  return flags.durability.split(',').map((durability) => {
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
}

const meets = (row) => row.enqueue_msg_per_s >= TARGET_MSG_PER_S && row.drain_msg_per_s >= TARGET_MSG_PER_S;

let inProcess = previous.in_process ?? (previous.rows && { ...previous, daemons: undefined });
if (SCENARIOS.includes('in-process')) {
  const rows = runInProcess();
  inProcess = {
    date: new Date().toISOString(),
    load_average: { before: LOAD_BEFORE, after: loadAverage() },
    parameters: { messages: MESSAGES, payload_bytes: PAYLOAD_BYTES, window: WINDOW, endpoint: '$upstream' },
    rows,
    targets: {
      msg_per_s_min: TARGET_MSG_PER_S,
      met: Object.fromEntries(rows.map((row) => [row.durability, meets(row)])),
    },
  };
}

// one run per message count and parent route; a new run replaces the previous one of the same kind
let daemons = previous.daemons ?? [];
if (SCENARIOS.includes('daemons')) {
  const profileDir = flags['profile-child'] && path.resolve(flags['profile-child']);
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const before = loadAverage();
  const row = await runDaemons({
    messages: Number(flags['daemon-messages']),
    window: Number(flags['publish-window']),
    parentRoute: flags['parent-route'],
    upstream: flags.upstream,
    profileDir,
  });
  console.log(row);
  if (profileDir) process.exit(0);
  const run = {
    date: new Date().toISOString(),
    load_average: { before, after: loadAverage() },
    row,
    target_met: meets(row),
  };
  const upstreamOf = (r) => r.upstream ?? 'Mqtt';
  const same = (other) =>
    other.row.messages === row.messages &&
    other.row.parent_route === row.parent_route &&
    upstreamOf(other.row) === upstreamOf(row);
  daemons = [...daemons.filter((other) => !same(other)), run].sort(
    (a, b) =>
      a.row.messages - b.row.messages ||
      a.row.parent_route.localeCompare(b.row.parent_route) ||
      upstreamOf(a.row).localeCompare(upstreamOf(b.row)),
  );
}

const result = {
  date: new Date().toISOString(),
  machine: machine(),
  in_process: inProcess && {
    date: inProcess.date,
    load_average: inProcess.load_average,
    parameters: inProcess.parameters,
    rows: inProcess.rows,
    targets: inProcess.targets,
  },
  daemons,
};

const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
const m = result.machine;
const inProcessSection = (run) => {
  const { messages, window } = run.parameters;
  return (
    `## In process: the store alone\n\n` +
    `${run.date}; load average ${run.load_average.before} before, ${run.load_average.after} after. ` +
    `Options: \`--messages ${messages} --window ${window} --durability ${run.rows.map((r) => r.durability).join(',')}\`.\n\n` +
    `${messages} messages of ${PAYLOAD_BYTES} bytes (with 1 application property and 3 system properties) ` +
    `enqueued to \`$upstream\` through its endpoint into the SQLite store (one file, WAL, group commit: ` +
    `a commit once the event loop has handled the input already in, or at 1000 messages), ${window} appends waiting for their commit at a time; then drained ` +
    `through a target that acknowledges at once (64 in flight, the upstream window). Each durability runs in a ` +
    `process of its own (peak RSS is the process's).\n\n` +
    `| durability | enqueue msg/s | CPU µs/msg | drain msg/s | CPU µs/msg | peak RSS MiB | disk filled MiB | disk B/msg | cleanup s (after the drain) | 2 s later MiB | after close MiB |\n` +
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n` +
    run.rows
      .map(
        (r) =>
          `| ${r.durability} | ${r.enqueue_msg_per_s} | ${r.enqueue_cpu_us_per_msg} | ${r.drain_msg_per_s} | ` +
          `${r.drain_cpu_us_per_msg} | ${r.peak_rss_mib} | ${mib(r.disk_bytes_filled)} | ${r.disk_bytes_per_msg} | ` +
          `${r.cleanup_seconds} | ${mib(r.disk_bytes_after_cleanup)} | ${mib(r.disk_bytes_after_close)} |`,
      )
      .join('\n') +
    `\n\nTarget ≥ ${TARGET_MSG_PER_S} msg/s enqueue and drain: ` +
    run.rows.map((r) => `${r.durability} ${run.targets.met[r.durability] ? 'met' : 'not met'}`).join(', ') +
    '.\n'
  );
};
const daemonsSection = (runs) => {
  const options = (r) =>
    `--scenarios daemons --daemon-messages ${r.messages} --publish-window ${r.publish_window} --parent-route ${r.parent_route} --upstream ${r.upstream ?? 'Mqtt'}`;
  return (
    `## Child → parent: two iotedged on loopback\n\n` +
    `A child iotedged (its hub's durable store as deployed: committed and fdatasynced before each PUBACK) gets ` +
    `N messages of ${PAYLOAD_BYTES} bytes from a load generator in the bench's process (mqtt.js over TLS, as the ` +
    `child's module \`sender\`, a window of publishes waiting for their PUBACK), routed \`INTO $upstream\` while its parent ` +
    `iotedged is stopped. Then the parent starts; the child's upstream link reconnects (after its backoff, not counted) ` +
    `and drains over one MQTT/TLS connection (or, with \`--upstream Amqp\`, the one AMQP/TLS connection of an edgeHub \`UpstreamProtocol\` Amqp), 256 messages in flight (the link's window to a parent). With \`--parent-route drop\` (the default) the parent ` +
    `has no route for them: it authenticates, parses and routes each one, then acknowledges it, so the drain ` +
    `measures the link (the child's store, the connection, the parent's hub) and not the parent's own store, whose ` +
    `appends the enqueue figure already measures on the child; \`module\` routes them to a module input on the parent ` +
    `(its durable store; the module does not read them). Drain: from the last sample (every 100 ms) with all messages ` +
    `held to the first with none. CPU is each daemon's (user + system, from /proc) over that phase, per message; the ` +
    `generator's is this process's. Peak RSS is each daemon's VmHWM. Disk: the child's messages.db with its -wal and ` +
    `-shm, when filled, once its size stopped changing for 3 s after the drain, and once the child stopped.\n\n` +
    `| N | parent | upstream | publish window | enqueue msg/s | child CPU µs/msg | generator CPU µs/msg | reconnect wait s | drain msg/s | child CPU µs/msg | parent CPU µs/msg | child peak RSS MiB | parent peak RSS MiB | disk filled MiB | disk B/msg | cleanup s | 2 s later MiB (WAL) | stopped MiB | target |\n` +
    `|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n` +
    runs
      .map(({ row: r, target_met }) =>
        [
          r.messages,
          r.parent_route,
          r.upstream ?? 'Mqtt',
          r.publish_window,
          r.enqueue_msg_per_s,
          r.enqueue_child_cpu_us_per_msg,
          r.enqueue_generator_cpu_us_per_msg,
          r.reconnect_wait_s,
          r.drain_msg_per_s,
          r.drain_child_cpu_us_per_msg,
          r.drain_parent_cpu_us_per_msg,
          r.child_peak_rss_mib,
          r.parent_peak_rss_mib,
          mib(r.disk_bytes_filled),
          r.disk_bytes_per_msg,
          r.cleanup_seconds,
          `${mib(r.disk_bytes_after_cleanup)} (${mib(r.wal_bytes_after_cleanup)})`,
          mib(r.disk_bytes_after_stop),
          target_met ? 'met' : 'not met',
        ].join(' | '),
      )
      .map((line) => `| ${line} |`)
      .join('\n') +
    `\n\nTarget ≥ ${TARGET_MSG_PER_S} msg/s enqueue and drain. Runs (date, load average before → after, options):\n\n` +
    runs
      .map(
        ({ date, load_average, row }) =>
          `- ${date}, ${load_average.before} → ${load_average.after}: \`${options(row)}\``,
      )
      .join('\n') +
    '\n'
  );
};
const markdown =
  `# Store and forward: the durable message store\n\n` +
  `${result.date}. Run with \`npm run build && node bench/store-forward.js\` (a scenario left out with ` +
  `\`--scenarios\` keeps its previous figures; each section gives its own date and options).\n\n` +
  `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node}, ${m.platform}.\n\n` +
  (result.in_process ? inProcessSection(result.in_process) + '\n' : '') +
  (result.daemons.length > 0 ? daemonsSection(result.daemons) : '');
writeFileSync(resultsFile('store-forward.json'), JSON.stringify(result, null, 2) + '\n');
writeMarkdownKeepingFindings(resultsFile('store-forward.md'), markdown);
