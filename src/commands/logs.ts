import { Args } from '@oclif/core';
import { DaemonCommand } from '../cli/daemon-command.js';
import { logFlags } from '../cli/log-flags.js';

export default class Logs extends DaemonCommand {
  static override description =
    'Fetch the logs of a module (edgeAgent and edgeHub: their lines in the daemon log)';

  static override examples = [
    '<%= config.bin %> logs tempSensor',
    '<%= config.bin %> logs tempSensor --tail 100 --since "2 hours" -t',
    '<%= config.bin %> logs tempSensor --since 2024-05-01T10:00:00Z --until 2024-05-01T11:00:00Z',
    '<%= config.bin %> logs -f tempSensor',
    '<%= config.bin %> logs edgeAgent --tail 50',
  ];

  static override args = {
    module: Args.string({ required: true, description: 'Sets the module identity to get logs' }),
  };

  static override flags = logFlags;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Logs);
    const { logsQuery, printLogStream } = await import('../cli/log-stream.js');
    const query = logsQuery(flags);
    const client = await this.managementClient(flags.host);
    await printLogStream((signal) => client.moduleLogs(args.module, query, signal));
  }
}
