import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Paint } from './render-text.js';
import { defaultDiagnosticsImageName } from './support/diagnostics-name.js';
import { parseHubPorts } from './test-overrides.js';
import type { CheckInputs } from './types.js';

export interface CheckFlags {
  'config-file': string;
  'container-engine-config-file': string;
  'diagnostics-image-name'?: string;
  'expected-iotedged-version'?: string;
  iotedged?: string;
  'iothub-hostname'?: string;
  'ntp-server': string;
  'proxy-uri'?: string;
  verbose: boolean;
}

/** /usr/bin/iotedged when installed system-wide, else the daemon shipped beside this CLI. */
export function defaultIotedgedPath(): string {
  if (existsSync('/usr/bin/iotedged')) return '/usr/bin/iotedged';
  return fileURLToPath(new URL('../../../bin/iotedged.js', import.meta.url));
}

export function checkInputsFromFlags(
  flags: CheckFlags,
  env: NodeJS.ProcessEnv,
  cliVersion: string,
): CheckInputs {
  return {
    configFile: flags['config-file'],
    containerEngineConfigFile: flags['container-engine-config-file'],
    diagnosticsImageName: flags['diagnostics-image-name'] ?? defaultDiagnosticsImageName(cliVersion),
    expectedIotedgedVersion: flags['expected-iotedged-version'],
    iotedgedPath: flags.iotedged ?? defaultIotedgedPath(),
    iothubHostname: flags['iothub-hostname'],
    ntpServer: flags['ntp-server'],
    proxyUri: flags['proxy-uri'],
    verbose: flags.verbose,
    env,
    hubPorts: parseHubPorts(env.IOTEDGE_CHECK_IOTHUB_PORTS),
    latestVersionUrl: env.IOTEDGE_CHECK_LATEST_VERSION_URL || undefined,
    cliVersion,
  };
}

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
async function makePaint(env: NodeJS.ProcessEnv): Promise<Paint> {
  const { Chalk } = await import('chalk');
  const chalk = new Chalk({ level: process.stdout.isTTY && !('NO_COLOR' in env) ? 1 : 0 });
  return { green: chalk.green, yellow: chalk.yellow, red: chalk.red };
}

export async function prepareCheckRun(flags: CheckFlags, env: NodeJS.ProcessEnv, cliVersion: string) {
  const inputs = checkInputsFromFlags(flags, env, cliVersion);
  const [{ loadCheckDefinitions, checkResources }, paint] = await Promise.all([
    import('./registry.js'),
    makePaint(env),
  ]);
  return { inputs, paint, checks: loadCheckDefinitions(), resources: checkResources };
}
