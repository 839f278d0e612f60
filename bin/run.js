#!/usr/bin/env node
import { moveLeadingHost } from '../dist/src/cli/global-args.js';
import { runFastLane } from '../dist/src/cli/fast-lane.js';

const args = moveLeadingHost(process.argv.slice(2));
if (!(await runFastLane(args))) {
  const { runOclif } = await import('../dist/src/cli/run-oclif.js');
  await runOclif(args, import.meta.url);
}
