import { DaemonCommand } from '../../cli/daemon-command.js';
import { logFlags } from '../../cli/log-flags.js';

export default class SystemLogs extends DaemonCommand {
  static override description =
    "Fetch the IoT Edge daemon's log: every line of iotedged, its Edge Agent and its Edge Hub";

  static override examples = [
    '<%= config.bin %> system logs',
    '<%= config.bin %> system logs --tail 100 -t',
    '<%= config.bin %> system logs --since "10 minutes" -f',
  ];

  static override flags = logFlags;

  async run(): Promise<void> {
    const { flags } = await this.parse(SystemLogs);
    const { logsQuery, printLogStream } = await import('../../cli/log-stream.js');
    const query = logsQuery(flags);
    const client = await this.managementClient(flags.host);
    await printLogStream((signal) => client.daemonLogs(query, signal));
  }
}
