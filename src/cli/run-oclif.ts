import { Errors, flush, run } from '@oclif/core';

/**
 * Runs the oclif command line. Usage errors exit 1 (as the real tool's clap parser does) and
 * never show a stack trace unless DEBUG is set.
 */
export async function runOclif(args: string[], binUrl: string): Promise<void> {
  try {
    await run(args, binUrl);
    await flush();
  } catch (error) {
    const oclif = (error as { oclif?: { exit?: number } }).oclif;
    if (oclif && oclif.exit === 2) oclif.exit = 1;
    Errors.handle(error as Error);
  }
}
