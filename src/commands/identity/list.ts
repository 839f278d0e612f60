import { DaemonCommand } from '../../cli/daemon-command.js';
import { jsonText } from '../../cli/json-text.js';

export default class IdentityList extends DaemonCommand {
  static override description = 'List the leaf devices registered with this gateway (never their keys)';

  static override examples = ['<%= config.bin %> identity list', '<%= config.bin %> identity list --json'];

  static override enableJsonFlag = true;

  async run(): Promise<void> {
    const { flags } = await this.parse(IdentityList);
    const client = await this.managementClient(flags.host);
    const devices = await client.listDevices();
    if (this.jsonEnabled()) {
      process.stdout.write(jsonText({ devices }));
      return;
    }
    const { renderDeviceTable } = await import('../../cli/leaf-device-output.js');
    process.stdout.write(renderDeviceTable(devices));
  }
}
