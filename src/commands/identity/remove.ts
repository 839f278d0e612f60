import { Args } from '@oclif/core';
import { DaemonCommand } from '../../cli/daemon-command.js';

export default class IdentityRemove extends DaemonCommand {
  static override description =
    'Unregister a leaf device; it is disconnected and its credentials stop working';

  static override examples = ['<%= config.bin %> identity remove thermostat1'];

  static override enableJsonFlag = true;

  static override args = {
    device_id: Args.string({ required: true, description: 'The device id' }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(IdentityRemove);
    const client = await this.managementClient(flags.host);
    await client.removeDevice(args.device_id);
    if (this.jsonEnabled()) return { deviceId: args.device_id, removed: true };
    process.stdout.write(`Removed leaf device ${args.device_id}\n`);
    return undefined;
  }
}
