import { Flags } from '@oclif/core';
import { DaemonCommand } from '../../cli/daemon-command.js';

export default class IdentityList extends DaemonCommand {
  static override description = 'List the leaf devices registered with this gateway (never their keys)';

  static override examples = ['<%= config.bin %> identity list', '<%= config.bin %> identity list --json'];

  static override flags = {
    json: Flags.boolean({ description: 'Print the devices as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(IdentityList);
    const client = await this.managementClient(flags.host);
    const devices = await client.listDevices();
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ devices }, null, 2)}\n`);
      return;
    }
    const { renderDeviceTable } = await import('../../cli/leaf-device-output.js');
    process.stdout.write(renderDeviceTable(devices));
  }
}
