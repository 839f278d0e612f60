import { fileURLToPath } from 'node:url';
import { Config, Errors, flush, loadHelpClass, run } from '@oclif/core';

/** The plugin that answers a mistyped command with a prompt "Did you mean …? (Y/n)". */
const NOT_FOUND_PLUGIN = '@oclif/plugin-not-found';

/**
 * `iotedge` without a subcommand: as the real tool's parser does, the help goes to stderr and the
 * exit code is 1 (a script that forgot its subcommand fails instead of reading help as output).
 */
async function missingSubcommand(config: Config): Promise<void> {
  const Help = await loadHelpClass(config);
  await new Help(config, { sendToStderr: true }).showHelp([]);
  process.exitCode = 1;
}

/**
 * A mistyped command in a script or a pipe (no terminal to ask on): the closest command is named
 * on stderr and the exit code is 127.
 */
async function reportNotFound(config: Config, id: string): Promise<void> {
  const { closestCommand, notFoundMessage } = await import('./did-you-mean.js');
  const spaced = (commandId: string) => commandId.replaceAll(':', ' ');
  const visible = config.commands.filter((command) => !command.hidden).map((command) => spaced(command.id));
  const typed = spaced(id);
  const topic = id.includes(':') && config.findTopic(id.split(':')[0]) ? id.split(':')[0] : undefined;
  process.stderr.write(notFoundMessage(typed, closestCommand(typed, visible), config.bin, topic));
  process.exitCode = 127;
}

/**
 * Runs the oclif command line. Usage errors exit 1 (as the real tool's clap parser does) and
 * never show a stack trace unless DEBUG is set. A mistyped command gets the not-found plugin's
 * question on a terminal, and the suggestion on stderr elsewhere.
 */
export async function runOclif(args: string[], binUrl: string): Promise<void> {
  let config: Config | undefined;
  try {
    config = await Config.load(fileURLToPath(binUrl));
    if (args.length === 0) return await missingSubcommand(config);
    if (!(process.stdin.isTTY && process.stdout.isTTY)) config.plugins.delete(NOT_FOUND_PLUGIN);
    await run(args, config);
    await flush();
  } catch (error) {
    const missing = /^command (\S+) not found$/.exec((error as Error).message);
    if (config && missing) return await reportNotFound(config, missing[1]);
    const oclif = (error as { oclif?: { exit?: number } }).oclif;
    if (oclif && oclif.exit === 2) oclif.exit = 1;
    Errors.handle(error as Error);
  }
}
