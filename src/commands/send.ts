import { Args, Flags } from '@oclif/core';
import { DaemonCommand } from '../cli/daemon-command.js';
import { parseMessageProperties } from '../cli/message-properties.js';
import { withSpinner } from '../cli/progress.js';

export default class Send extends DaemonCommand {
  static override description =
    'Send a cloud-to-device message to a connected leaf device through the Edge Hub; prints {messageId} once the device completed it';

  static override examples = [
    '<%= config.bin %> send thermostat1 "set-mode eco"',
    `<%= config.bin %> send thermostat1 '{"mode":"eco"}' --props 'kind=command;priority=high' --timeout 10`,
  ];

  static override args = {
    device: Args.string({
      required: true,
      description: 'A leaf device registered with `iotedge identity add`',
    }),
    data: Args.string({ required: true, description: 'The message body (text)' }),
  };

  static override enableJsonFlag = true;

  static override flags = {
    props: Flags.string({ description: 'Application properties: key=value pairs separated by ;' }),
    'message-id': Flags.string({ description: 'The message id (default: a new UUID)' }),
    'correlation-id': Flags.string({ description: 'The correlation id' }),
    timeout: Flags.integer({
      description: 'Seconds to wait for the device to complete the message',
      default: 60,
      min: 1,
      max: 300,
    }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Send);
    const properties = parseMessageProperties(flags.props);
    const client = await this.managementClient(flags.host);
    const json = this.jsonEnabled();
    const result = await withSpinner(`Waiting for ${args.device} to complete the message`, { json }, () =>
      client.sendCloudToDevice(args.device, {
        data: args.data,
        properties,
        messageId: flags['message-id'],
        correlationId: flags['correlation-id'],
        ackTimeoutInSeconds: flags.timeout,
      }),
    );
    if (json) return result;
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return undefined;
  }
}
