import { DaemonCommand } from '../cli/daemon-command.js';

export default class List extends DaemonCommand {
  static override description = 'List modules';

  static override examples = ['<%= config.bin %> list', '<%= config.bin %> list --json'];

  static override enableJsonFlag = true;

  async run(): Promise<void> {
    const { flags } = await this.parse(List);
    const { listOutput } = await import('../cli/list-service.js');
    process.stdout.write(await listOutput(flags.host, this.jsonEnabled()));
  }
}
