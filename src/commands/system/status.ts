import { DaemonCommand } from '../../cli/daemon-command.js';
import { jsonText } from '../../cli/json-text.js';

export default class SystemStatus extends DaemonCommand {
  static override description =
    "Show whether iotedged answers, its version, uptime, a summary of its modules and the Edge Hub's queues";

  static override examples = ['<%= config.bin %> system status', '<%= config.bin %> system status --json'];

  static override enableJsonFlag = true;

  async run(): Promise<void> {
    const { flags } = await this.parse(SystemStatus);
    const client = await this.managementClient(flags.host);
    const [info, resources, list, queues, upstream, { countModules, renderSystemStatus }] = await Promise.all(
      [
        client.systemInfo(),
        client.systemResources(),
        client.listModules(),
        client.hubQueues(),
        client.upstreamStatus(),
        import('../../cli/system-status.js'),
      ],
    );
    const status = {
      daemon: {
        host: flags.host,
        running: true as const,
        version: String(info.version),
        uptimeSeconds: Number(resources.process_uptime) || 0,
      },
      modules: countModules(list.modules),
      ...(queues ? { queues } : {}),
      ...(upstream ? { upstream } : {}),
      ...(info.provisioning?.state ? { provisioning: info.provisioning.state } : {}),
    };
    process.stdout.write(this.jsonEnabled() ? jsonText(status) : renderSystemStatus(status));
  }
}
