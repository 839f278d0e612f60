import { createWriteStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { checkInputsFromFlags } from '../../checks/prepare.js';
import { CliError } from '../cli-error.js';
import type { ManagementClient } from '../management-client.js';
import { parseTimeArg } from '../time-args.js';
import { collectBundle, type BundleOutcome } from './collect.js';
import { zipSink } from './zip-sink.js';

export interface SupportBundleFlags {
  output: string;
  since: string;
  until?: string;
  'include-edge-runtime-only': boolean;
  'iothub-hostname'?: string;
  quiet: boolean;
  'config-file': string;
}

/**
 * `iotedge support-bundle`: collects the bundle into a zip at `flags.output` (`-`: stdout), with
 * progress lines on stderr unless quiet. Resolves to what was collected; a daemon that does not
 * answer still gives a bundle, and then a CliError saying so.
 */
export async function makeSupportBundle(
  flags: SupportBundleFlags,
  client: ManagementClient,
  cliVersion: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BundleOutcome> {
  const now = new Date();
  const since = parseTimeArg(flags.since, 'since', now);
  const until = flags.until === undefined ? undefined : parseTimeArg(flags.until, 'until', now);
  const progress = (line: string) => {
    if (!flags.quiet) process.stderr.write(`${line}\n`);
  };
  const toStdout = flags.output === '-';
  if (toStdout && process.stdout.isTTY)
    throw new CliError('Refusing to write a zip to a terminal: redirect stdout, or name a file with -o');

  const { loadConfig } = await import('../../runtime/config/load.js');
  const config = await loadConfig(flags['config-file'], env).then(
    (settings) => ({ settings }),
    (error: Error) => ({ error: error.message }),
  );

  let output: NodeJS.WritableStream & import('node:stream').Writable;
  if (toStdout) output = process.stdout;
  else {
    output = createWriteStream(flags.output, { mode: 0o600 });
    // a path that cannot be written fails here, before minutes of collecting
    await new Promise<void>((resolve, reject) => {
      output.once('open', () => resolve());
      output.once('error', (error) =>
        reject(new CliError(`Could not write the support bundle to ${flags.output}: ${error.message}`)),
      );
    });
  }

  progress('Making support bundle');
  const zip = zipSink(output);
  const outcome = await collectBundle(
    {
      client,
      config,
      since,
      until,
      edgeRuntimeOnly: flags['include-edge-runtime-only'],
      cliVersion,
      progress,
      checks: async () => {
        const [{ checkReports }, { loadCheckDefinitions, checkResources }] = await Promise.all([
          import('../../checks/report.js'),
          import('../../checks/registry.js'),
        ]);
        return checkReports({
          inputs: checkInputsFromFlags(
            {
              'config-file': flags['config-file'],
              'container-engine-config-file': '/etc/docker/daemon.json',
              'ntp-server': 'pool.ntp.org:123',
              verbose: true,
              ...(flags['iothub-hostname'] ? { 'iothub-hostname': flags['iothub-hostname'] } : {}),
            },
            env,
            cliVersion,
          ),
          checks: loadCheckDefinitions(),
          resources: checkResources,
          withoutDiagnosticsImage: true,
        });
      },
    },
    zip.add,
  );
  try {
    await zip.finish();
  } catch (error) {
    throw new CliError(`Could not write the support bundle: ${(error as Error).message}`);
  }
  if (!toStdout) progress(`Created support bundle at ${await realpath(flags.output)}`);
  if (outcome.daemonUnreachable) {
    const where = toStdout ? 'The support bundle' : `The support bundle at ${flags.output}`;
    throw new CliError(
      `${outcome.daemonUnreachable}\n${where} holds only what could be collected without the daemon (see errors.txt in it)`,
    );
  }
  return outcome;
}
