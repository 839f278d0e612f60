#!/usr/bin/env node
import { runFastLane } from '../dist/src/cli/fast-lane.js';

const args = process.argv.slice(2);
if (!(await runFastLane(args))) {
  const { runOclif } = await import('../dist/src/cli/run-oclif.js');
  await runOclif(args, import.meta.url);
}
