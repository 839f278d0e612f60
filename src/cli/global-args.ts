import { CliError, reportCliError, wantsJson } from './cli-error.js';

/** The arguments left for the command parser, and the daemon socket the user named, if any. */
export interface GlobalArgs {
  args: string[];
  host?: string;
}

const HOST_USAGE = "'--host <HOST>'";

/**
 * `-H/--host` is a global option of the real tool: accepted before or after any subcommand, topics
 * included (`iotedge -H X logs m`, `iotedge logs m -H X`, `iotedge -H X identity list`), and by
 * commands that do not use it (`check` ignores it). It is taken out of the arguments wherever it
 * stands, in every form the real parser accepts (`-H X`, `-HX`, `-H=X`, `--host X`, `--host=X`).
 * Arguments after `--` belong to the command and are left alone. A host option without a value,
 * or given twice, is a usage error.
 */
export function extractHost(args: readonly string[]): GlobalArgs {
  const rest: string[] = [];
  let host: string | undefined;
  const take = (value: string): void => {
    if (host !== undefined) {
      throw new CliError(
        `The argument ${HOST_USAGE} was provided more than once, but cannot be used multiple times`,
      );
    }
    host = value;
  };
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index];
    if (arg === '--') {
      rest.push(...args.slice(index));
      break;
    }
    if (arg === '-H' || arg === '--host') {
      const value = args[index + 1];
      if (value === undefined || value.startsWith('-')) {
        throw new CliError(`The argument ${HOST_USAGE} requires a value but none was supplied`);
      }
      take(value);
      index += 1;
    } else if (arg.startsWith('--host=')) {
      take(arg.slice('--host='.length));
    } else if (arg.startsWith('-H')) {
      take(arg.slice(arg.startsWith('-H=') ? 3 : 2));
    } else {
      rest.push(arg);
    }
  }
  return host === undefined ? { args: rest } : { args: rest, host };
}

/**
 * Applies the global options for bin/run.js: the host becomes IOTEDGE_HOST, which every daemon
 * command reads when no `-H` reaches it, so that no command needs to know where `-H` stood.
 * Resolves to the arguments left for the commands, or undefined after reporting a usage error
 * (as JSON on stderr when `--json` was given, as every command's errors are then).
 */
export function applyGlobalArgs(argv: readonly string[], env: NodeJS.ProcessEnv): string[] | undefined {
  try {
    const { args, host } = extractHost(argv);
    if (host !== undefined) env.IOTEDGE_HOST = host;
    return args;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    reportCliError(error, wantsJson(argv));
    return undefined;
  }
}
