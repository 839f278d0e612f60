#!/usr/bin/env node
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const args = process.argv.slice(2);
if (args.includes('--version') || args.includes('-V')) {
  process.stdout.write(`iotedged ${version}\n`);
} else {
  process.stderr.write(
    'iotedged: the daemon is not built yet in this release; only --version is available.\n',
  );
  process.exitCode = 1;
}
