import { CliError, reportCliError } from './cli-error.js';
import { DEFAULT_MANAGEMENT_HOST } from './management-host.js';

/**
 * The flags of `iotedge list` in their plain forms (`--json`, `-H X`, `-H=X`, `--host X`,
 * `--host=X`), or undefined for anything else (help, unknown flags), which oclif then handles.
 */
export function parseListArgs(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): { host: string; json: boolean } | undefined {
  if (args[0] !== 'list') return undefined;
  let host = env.IOTEDGE_HOST || DEFAULT_MANAGEMENT_HOST;
  let json = false;
  for (let i = 1; i < args.length; i += 1) {
    const arg = args[i];
    const inline = /^(?:-H|--host)=(.*)$/s.exec(arg);
    if (arg === '--json') json = true;
    else if (inline) host = inline[1];
    else if ((arg === '-H' || arg === '--host') && i + 1 < args.length && !args[i + 1].startsWith('-')) {
      host = args[(i += 1)];
    } else return undefined;
  }
  return { host, json };
}

/**
 * `iotedge list` without loading the CLI framework (for bin/run.js's fast lane): prints exactly
 * what the oclif command prints. Resolves to false when the arguments need oclif.
 */
export async function runListFast(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  const parsed = parseListArgs(args, env);
  if (!parsed) return false;
  const { listOutput } = await import('./list-service.js');
  try {
    process.stdout.write(await listOutput(parsed.host, parsed.json));
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    reportCliError(error);
  }
  return true;
}
