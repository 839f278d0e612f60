#!/usr/bin/env node
// `iotedge list` against a daemon running 20 process modules, side by side with `node -e 0`,
// and the daemon's idle RSS with those 20 modules. Interleaved rounds, medians, ratios.
// Usage: npm run build && node bench/daemon-list.js [rounds]   (writes bench/results/daemon-list.{json,md})
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { TestDaemon, manifest, nodeModule } from '../dist/test/helpers/daemon.js';

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

const subjects = [
  { name: 'node -e 0 (anchor)', args: ['-e', '0'] },
  { name: 'iotedge list (20 modules)', args: [cli, 'list'] },
  { name: 'iotedge list --json (20 modules)', args: [cli, 'list', '--json'] },
];
const env = { ...process.env, IOTEDGE_HOST: daemon.host };
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

await new Promise((resolve) => setTimeout(resolve, 5000)); // idle: let the agent settle
const status = readFileSync(`/proc/${daemon.process.pid}/status`, 'utf8');
const rssMiB = Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
await daemon.cleanup();

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const anchor = median(samples[0]);
const rows = subjects.map((subject, index) => ({
  command: subject.name,
  median_ms: Number(median(samples[index]).toFixed(1)),
  ratio_to_node: Number((median(samples[index]) / anchor).toFixed(2)),
}));
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memory_gib: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.type()} ${os.release()} ${process.arch}`,
};
const result = {
  date: new Date().toISOString(),
  rounds,
  machine,
  rows,
  daemon_idle_rss_mib: Number(rssMiB.toFixed(1)),
};
const table = [
  '| command | median ms | × node -e 0 |',
  '|---|---:|---:|',
  ...rows.map((row) => `| ${row.command} | ${row.median_ms} | ${row.ratio_to_node} |`),
].join('\n');
const markdown = `# iotedge list and daemon idle memory, 20 process modules\n\n${result.date}, ${rounds} interleaved rounds.\n\nMachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, Node ${machine.node}, ${machine.platform}.\n\n${table}\n\niotedged idle RSS with 20 modules: ${result.daemon_idle_rss_mib} MiB (the modules' own processes not counted).\n\nTargets: \`iotedge list\` at most 3× \`node -e 0\`; daemon idle RSS at most 60 MB.\n`;
const out = (name) => fileURLToPath(new URL(`results/${name}`, import.meta.url));
writeFileSync(out('daemon-list.json'), JSON.stringify(result, null, 2) + '\n');
writeFileSync(out('daemon-list.md'), markdown);
console.log(table);
console.log(`iotedged idle RSS: ${result.daemon_idle_rss_mib} MiB`);
