#!/usr/bin/env node
// Compares the start-up of `iotedge` commands with a bare `node -e 0`, side by side in one run.
// Runs are interleaved (one of each per round) so machine noise hits every command alike.
// Usage: node bench/cli-startup.js [rounds]   (writes bench/results/cli-startup.{json,md})
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const rounds = Number(process.argv[2] ?? 30);
const cli = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const subjects = [
  { name: 'node -e 0 (anchor)', args: ['-e', '0'] },
  { name: 'iotedge version', args: [cli, 'version'] },
  { name: 'iotedge check-list', args: [cli, 'check-list'] },
  { name: 'iotedge check-list --help (oclif)', args: [cli, 'check-list', '--help'] },
  { name: 'iotedge check --help (oclif)', args: [cli, 'check', '--help'] },
];

const samples = subjects.map(() => []);
for (let round = -2; round < rounds; round += 1) {
  subjects.forEach((subject, index) => {
    const start = process.hrtime.bigint();
    const run = spawnSync(process.execPath, subject.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0) throw new Error(`${subject.name} exited ${run.status}: ${run.stderr}`);
    if (round >= 0) samples[index].push(ms); // the first two rounds warm the file cache
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
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
const result = { date: new Date().toISOString(), rounds, machine, rows };

const table = [
  '| command | median ms | × node -e 0 |',
  '|---|---:|---:|',
  ...rows.map((row) => `| ${row.command} | ${row.median_ms} | ${row.ratio_to_node} |`),
].join('\n');
const markdown = `# CLI start-up vs bare Node\n\n${result.date}, ${rounds} interleaved rounds.\n\nMachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, Node ${machine.node}, ${machine.platform}.\n\n${table}\n\nTarget: \`iotedge version\` and \`iotedge check-list\` at most 2× \`node -e 0\`.\n`;

const out = (name) => fileURLToPath(new URL(`results/${name}`, import.meta.url));
writeFileSync(out('cli-startup.json'), JSON.stringify(result, null, 2) + '\n');
writeFileSync(out('cli-startup.md'), markdown);
console.log(table);
