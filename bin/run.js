#!/usr/bin/env node
import { applyGlobalArgs } from '../dist/src/cli/global-args.js';
import { runFastLane } from '../dist/src/cli/fast-lane.js';

const args = applyGlobalArgs(process.argv.slice(2), process.env);
if (args !== undefined && !(await runFastLane(args))) {
  const { runOclif } = await import('../dist/src/cli/run-oclif.js');
  await runOclif(args, import.meta.url);
}
