#!/usr/bin/env node
// `iotedge list` against a daemon running 20 process modules, side by side with `node -e 0`,
// and the daemon's idle RSS with those 20 modules.
// Usage: npm run build && node bench/daemon-list.js [rounds]   (writes bench/results/daemon-list.{json,md})
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TestDaemon, manifest, nodeModule } from '../dist/test/helpers/daemon.js';
import { timeInterleaved, writeResults } from './lib.js';

const rounds = Number(process.argv[2] ?? 30);
const cli = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const daemon = new TestDaemon();
await daemon.start();
const modules = Object.fromEntries(
  Array.from({ length: 20 }, (_, index) => [
    `module${String(index).padStart(2, '0')}`,
    nodeModule('sleeper.js', ['60000']),
  ]),
);
const deployed = await daemon.request('POST', '/deployment', manifest(modules));
if (deployed.status !== 200) throw new Error(`deployment failed: ${deployed.body}`);
for (;;) {
  const list = await daemon.json('GET', '/modules');
  if (list.modules.filter((m) => m.status.runtimeStatus.status === 'running').length >= 21) break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}

const rows = timeInterleaved(
  [
    { name: 'node -e 0 (anchor)', args: ['-e', '0'] },
    { name: 'iotedge list (20 modules)', args: [cli, 'list'] },
    { name: 'iotedge list --json (20 modules)', args: [cli, 'list', '--json'] },
  ],
  rounds,
  { ...process.env, IOTEDGE_HOST: daemon.host },
);

/** A /proc/PID/status field in MiB. */
function statusMiB(pid, field) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number((Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)[1]) / 1024).toFixed(1));
}
/** The daemon's RSS in MiB once it has been idle a while (the agent settled). */
async function idleRss() {
  await new Promise((resolve) => setTimeout(resolve, 5000));
  return statusMiB(daemon.process.pid, 'VmRSS');
}
// a first start creates the edge CA and the hub's certificate (loading a certificate library);
// every later start reuses them, which is what a device runs most of its life
const firstStartMiB = await idleRss();
await daemon.signal('SIGTERM');
await daemon.start();
const rssMiB = await idleRss();
// RSS counts the pages of the node executable a process has touched (file-backed, shared, and
// given back under memory pressure) as well as its own memory (anonymous)
const anonMiB = statusMiB(daemon.process.pid, 'RssAnon');
const fileMiB = statusMiB(daemon.process.pid, 'RssFile');
await daemon.cleanup();

/** The same reading for a bare Node.js process that just waits: the anchor. */
async function bareNodeRss() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const reading = { rss: statusMiB(child.pid, 'VmRSS'), anon: statusMiB(child.pid, 'RssAnon') };
  child.kill();
  return reading;
}
const bare = await bareNodeRss();

writeResults('daemon-list', {
  title: 'iotedge list and daemon idle memory, 20 process modules',
  rounds,
  rows,
  extra: {
    daemon_idle_rss_mib: rssMiB,
    daemon_idle_rss_mb: Number(((rssMiB * 2 ** 20) / 1e6).toFixed(1)),
    daemon_first_start_idle_rss_mib: firstStartMiB,
    daemon_idle_rss_anon_mib: anonMiB,
    daemon_idle_rss_file_mib: fileMiB,
    bare_node_rss_mib: bare.rss,
    bare_node_rss_anon_mib: bare.anon,
  },
  notes:
    `iotedged idle RSS with 20 modules and the embedded Edge Hub listening: ${rssMiB} MiB ` +
    `(${((rssMiB * 2 ** 20) / 1e6).toFixed(1)} MB; the modules' own processes not counted); ` +
    `${firstStartMiB} MiB after the very first start, which also creates the edge CA and the hub's ` +
    'certificate.\n\n' +
    `Of the ${rssMiB} MiB, ${anonMiB} MiB are the daemon's own memory (anonymous) and ${fileMiB} MiB ` +
    'pages of the node executable and libraries it has touched (file-backed, shared with every other ' +
    `Node.js process, given back under memory pressure). A bare \`node\` that waits: ${bare.rss} MiB ` +
    `RSS, ${bare.anon} MiB of it anonymous.\n\n` +
    'Targets: `iotedge list` at most 3× `node -e 0`; daemon idle RSS at most 60 MB.\n',
});
console.log(
  `iotedged idle RSS: ${rssMiB} MiB (anonymous ${anonMiB}, file-backed ${fileMiB}; first start: ${firstStartMiB} MiB); bare node ${bare.rss} MiB (anonymous ${bare.anon})`,
);
