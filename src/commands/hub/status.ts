import { Flags } from '@oclif/core';
import { DaemonCommand } from '../../cli/daemon-command.js';

export default class HubStatus extends DaemonCommand {
  static override description =
    'Show the Edge Hub: routes in effect, connected clients, queues per endpoint, message counters and the upstream link';

  static override examples = ['<%= config.bin %> hub status', '<%= config.bin %> hub status --json'];

  static override flags = {
    json: Flags.boolean({ description: 'Print the status as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(HubStatus);
    const client = await this.managementClient(flags.host);
    const [status, { renderHubStatus }] = await Promise.all([
      client.hubStatus(),
      import('../../cli/hub-status.js'),
    ]);
    process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : renderHubStatus(status));
  }
}
