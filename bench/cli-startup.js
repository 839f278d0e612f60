#!/usr/bin/env node
// Compares the start-up of `iotedge` commands with a bare `node -e 0`, side by side in one run.
// Usage: node bench/cli-startup.js [rounds]   (writes bench/results/cli-startup.{json,md})
import { fileURLToPath } from 'node:url';
import { timeInterleaved, writeResults } from './lib.js';

const rounds = Number(process.argv[2] ?? 30);
const cli = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const rows = timeInterleaved(
  [
    { name: 'node -e 0 (anchor)', args: ['-e', '0'] },
    { name: 'iotedge version', args: [cli, 'version'] },
    { name: 'iotedge check-list', args: [cli, 'check-list'] },
    { name: 'iotedge check-list --help (oclif)', args: [cli, 'check-list', '--help'] },
    { name: 'iotedge check --help (oclif)', args: [cli, 'check', '--help'] },
  ],
  rounds,
);
writeResults('cli-startup', {
  title: 'CLI start-up vs bare Node',
  rounds,
  rows,
  notes: 'Target: `iotedge version` and `iotedge check-list` at most 2× `node -e 0`.\n',
});
