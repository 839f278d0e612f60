import { Flags } from '@oclif/core';
import { DaemonCommand } from '../cli/daemon-command.js';
import { logFlags } from '../cli/log-flags.js';
import { DEFAULT_CONFIG_FILE } from '../runtime/config/settings.js';

export default class SupportBundle extends DaemonCommand {
  static override description =
    'Bundles the check report, module and daemon logs, deployment status, inspect data and system information into a zip (secrets redacted)';

  static override examples = [
    '<%= config.bin %> support-bundle',
    '<%= config.bin %> support-bundle -o /tmp/bundle.zip --since "2 hours"',
    '<%= config.bin %> support-bundle -o - -q > bundle.zip',
  ];

  static override flags = {
    output: Flags.string({
      char: 'o',
      description: 'Location to output file. Use "-" for stdout',
      default: 'support_bundle.zip',
      helpValue: '<FILENAME>',
    }),
    since: logFlags.since,
    until: logFlags.until,
    'include-edge-runtime-only': Flags.boolean({
      char: 'e',
      description: 'Only include edge runtime modules (edgeAgent and edgeHub)',
    }),
    'iothub-hostname': Flags.string({
      description: 'Sets the hostname of the Azure IoT Hub that this device would connect to (for the check)',
    }),
    quiet: Flags.boolean({ char: 'q', description: 'Suppress status output' }),
    'config-file': Flags.string({
      char: 'c',
      description: 'Sets daemon configuration file',
      default: DEFAULT_CONFIG_FILE,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SupportBundle);
    const { makeSupportBundle } = await import('../cli/support-bundle/make-bundle.js');
    const client = await this.managementClient(flags.host);
    await makeSupportBundle(
      {
        ...flags,
        'include-edge-runtime-only': flags['include-edge-runtime-only'] ?? false,
        quiet: flags.quiet ?? false,
      },
      client,
      this.config.version,
    );
  }
}
