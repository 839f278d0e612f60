import { fileURLToPath } from 'node:url';
import { Config, Errors, flush, loadHelpClass, run } from '@oclif/core';

/**
 * `iotedge` without a subcommand: as the real tool's parser does, the help goes to stderr and the
 * exit code is 1 (a script that forgot its subcommand fails instead of reading help as output).
 */
async function missingSubcommand(binUrl: string): Promise<void> {
  const config = await Config.load(fileURLToPath(binUrl));
  const Help = await loadHelpClass(config);
  await new Help(config, { sendToStderr: true }).showHelp([]);
  process.exitCode = 1;
}

/**
 * Runs the oclif command line. Usage errors exit 1 (as the real tool's clap parser does) and
 * never show a stack trace unless DEBUG is set.
 */
export async function runOclif(args: string[], binUrl: string): Promise<void> {
  try {
    if (args.length === 0) return await missingSubcommand(binUrl);
    await run(args, binUrl);
    await flush();
  } catch (error) {
    const oclif = (error as { oclif?: { exit?: number } }).oclif;
    if (oclif && oclif.exit === 2) oclif.exit = 1;
    Errors.handle(error as Error);
  }
}
