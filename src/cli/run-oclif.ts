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
 * A known command followed by words it takes no arguments for (`version extra`, `hub status x`):
 * oclif would read the words as part of a command name and report a command that does not exist;
 * the command's own parser names the unexpected argument instead. Undefined when the first words
 * name no command, or a command that takes arguments.
 */
function commandWithStrayWords(config: Config, args: string[]): { id: string; argv: string[] } | undefined {
  if (args.includes('--help') || args.includes('-h')) return undefined; // help has its own answer
  const flag = args.findIndex((arg) => arg.startsWith('-'));
  const words = flag === -1 ? args : args.slice(0, flag);
  for (let length = words.length - 1; length >= 1; length -= 1) {
    const id = words.slice(0, length).join(':');
    const command = config.findCommand(id);
    if (!command) continue;
    const takesArguments = command.strict === false || Object.keys(command.args ?? {}).length > 0;
    return takesArguments ? undefined : { id, argv: args.slice(length) };
  }
  return undefined;
}

async function runWithStrayWords(config: Config, stray: { id: string; argv: string[] }): Promise<void> {
  try {
    await config.runCommand(stray.id, stray.argv);
  } catch (error) {
    // oclif's help after a usage error reads the process's arguments, which name no command here
    (error as { showHelp?: boolean }).showHelp = false;
    throw error;
  }
}

/**
 * Runs the oclif command line. Usage errors exit 1 (as the real tool's clap parser does) and
 * never show a stack trace unless DEBUG is set. A mistyped command gets the not-found plugin's
 * question on a terminal, and the suggestion on stderr elsewhere; a known command given an
 * argument it does not take names that argument.
 */
export async function runOclif(args: string[], binUrl: string): Promise<void> {
  let config: Config | undefined;
  try {
    config = await Config.load(fileURLToPath(binUrl));
    if (args.length === 0) return await missingSubcommand(config);
    if (!(process.stdin.isTTY && process.stdout.isTTY)) config.plugins.delete(NOT_FOUND_PLUGIN);
    const stray = commandWithStrayWords(config, args);
    if (stray) await runWithStrayWords(config, stray);
    else await run(args, config);
    await flush();
  } catch (error) {
    const missing = /^command (\S+) not found$/.exec((error as Error).message);
    if (config && missing) return await reportNotFound(config, missing[1]);
    const oclif = (error as { oclif?: { exit?: number } }).oclif;
    if (oclif && oclif.exit === 2) oclif.exit = 1;
    Errors.handle(error as Error);
  }
}
