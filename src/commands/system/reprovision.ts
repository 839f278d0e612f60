import { DaemonCommand } from '../../cli/daemon-command.js';

export default class SystemReprovision extends DaemonCommand {
  static override description =
    'Register with the Device Provisioning Service again; iotedged restarts under a new hub or device id';

  static override examples = [
    '<%= config.bin %> system reprovision',
    '<%= config.bin %> system reprovision --json',
  ];

  static override enableJsonFlag = true;

  async run(): Promise<unknown> {
    const { flags } = await this.parse(SystemReprovision);
    const client = await this.managementClient(flags.host);
    const answer = await client.reprovision();
    if (this.jsonEnabled()) return answer;
    process.stdout.write(
      `Successfully reprovisioned with IoT Hub: device ${answer.deviceId} on ${answer.iothubHostname}.\n` +
        (answer.changed ? 'The assignment changed: iotedged restarts under the new identity.\n' : ''),
    );
    return undefined;
  }
}
