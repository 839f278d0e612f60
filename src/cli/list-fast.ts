import { CliError, reportCliError } from './cli-error.js';
import { extractHost, type GlobalArgs } from './global-args.js';
import { DEFAULT_MANAGEMENT_HOST } from './management-host.js';

/**
 * The arguments of `iotedge list` in their plain forms (`--json`, and the global `-H/--host` in any
 * form), or undefined for anything else (help, unknown flags, a usage error), which oclif then handles.
 */
export function parseListArgs(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): { host: string; json: boolean } | undefined {
  if (args[0] !== 'list') return undefined;
  let global: GlobalArgs;
  try {
    global = extractHost(args.slice(1));
  } catch {
    return undefined;
  }
  if (!global.args.every((arg) => arg === '--json')) return undefined;
  return {
    host: global.host ?? (env.IOTEDGE_HOST || DEFAULT_MANAGEMENT_HOST),
    json: global.args.length > 0,
  };
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
    reportCliError(error, parsed.json);
  }
  return true;
}
