import { Flags } from '@oclif/core';
import { DaemonCommand } from '../../cli/daemon-command.js';

export default class SystemReprovision extends DaemonCommand {
  static override description =
    'Register with the Device Provisioning Service again; iotedged restarts under a new hub or device id';

  static override examples = [
    '<%= config.bin %> system reprovision',
    '<%= config.bin %> system reprovision --json',
  ];

  static override flags = {
    json: Flags.boolean({ description: 'Print the assignment as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SystemReprovision);
    const client = await this.managementClient(flags.host);
    const answer = await client.reprovision();
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `Successfully reprovisioned with IoT Hub: device ${answer.deviceId} on ${answer.iothubHostname}.\n` +
        (answer.changed ? 'The assignment changed: iotedged restarts under the new identity.\n' : ''),
    );
  }
}
