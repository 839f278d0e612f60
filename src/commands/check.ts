import { Flags } from '@oclif/core';
import { acceptedCheckIds, resolveDontRun } from '../checks/catalog.js';
import { CliError } from '../cli/cli-error.js';
import { IotedgeCommand } from '../cli/iotedge-command.js';
import { DEFAULT_CONFIG_FILE } from '../runtime/config/settings.js';

export default class Check extends IotedgeCommand {
  static override description = 'Check for common config and deployment issues';

  static override examples = [
    '<%= config.bin %> check',
    '<%= config.bin %> check -c ./config.yaml --dont-run container-engine-dns -o json',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    'config-file': Flags.string({
      char: 'c',
      description: 'Sets daemon configuration file',
      default: DEFAULT_CONFIG_FILE,
    }),
    'container-engine-config-file': Flags.string({
      description: 'Sets the path of the container engine configuration file',
      default: '/etc/docker/daemon.json',
    }),
    'diagnostics-image-name': Flags.string({
      description:
        'Sets the name of the diagnostics image; built locally from this installation when the engine does not have it',
    }),
    'dont-run': Flags.string({
      description:
        "Space-separated list of check IDs. The checks listed here will not be run. See 'iotedge check-list' for details of all checks.",
      multiple: true,
    }),
    'expected-iotedged-version': Flags.string({
      description:
        'Sets the expected version of the iotedged binary. Defaults to the latest version published at IOTEDGE_CHECK_LATEST_VERSION_URL, else the version of this CLI',
    }),
    iotedged: Flags.string({
      description:
        'Sets the path of the iotedged binary (default /usr/bin/iotedged, else the one shipped with this CLI)',
    }),
    'iothub-hostname': Flags.string({
      description: 'Sets the hostname of the Azure IoT Hub that this device would connect to',
    }),
    'ntp-server': Flags.string({
      description: 'Sets the NTP server to use when checking host local time',
      default: 'pool.ntp.org:123',
    }),
    'proxy-uri': Flags.string({
      description:
        'Sets the proxy URI that the checks use to reach IoT Hub and DPS (overrides agent.env.https_proxy)',
    }),
    output: Flags.string({
      char: 'o',
      description: 'Output format (--json is -o json)',
      options: ['text', 'json'],
      default: 'text',
    }),
    verbose: Flags.boolean({ description: 'Increases verbosity of output.' }),
    'warnings-as-errors': Flags.boolean({
      description:
        "Treats warnings as errors. Thus 'iotedge check' will exit with non-zero code if it encounters warnings.",
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Check);
    const dontRun = resolveDontRun(flags['dont-run'] ?? []);
    if (dontRun.unknown.length > 0) {
      throw new CliError(
        `Invalid value for --dont-run: unknown check id(s): ${dontRun.unknown.join(', ')}\n` +
          `Valid ids (see 'iotedge check-list'):\n${acceptedCheckIds()
            .map((id) => `    ${id}`)
            .join('\n')}`,
      );
    }
    const { prepareCheckRun } = await import('../checks/prepare.js');
    let prepared;
    try {
      prepared = await prepareCheckRun(flags, process.env, this.config.version);
    } catch (error) {
      this.error((error as Error).message, { exit: 1 });
    }
    const [{ runCheckCommand }, { withImageSpinner }, { LinesAboveSpinner }] = await Promise.all([
      import('../checks/service.js'),
      import('../cli/check-progress.js'),
      import('../cli/spinner-lines.js'),
    ]);
    const output = this.jsonEnabled() ? 'json' : (flags.output as 'text' | 'json');
    // the report's lines and the image spinner share the terminal: every line goes through `out`
    const out = new LinesAboveSpinner((text) => process.stdout.write(text));
    const exitCode = await runCheckCommand({
      ...prepared,
      resources: withImageSpinner(prepared.resources, output === 'json', out),
      dontRun: dontRun.ids,
      output,
      warningsAsErrors: flags['warnings-as-errors'],
      write: (text) => out.write(text),
    });
    if (exitCode !== 0) {
      process.stderr.write('\n');
      this.exit(exitCode);
    }
  }
}
