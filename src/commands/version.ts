import { DaemonCommand } from '../cli/daemon-command.js';
import { versionOutput } from '../cli/version-output.js';

export default class Version extends DaemonCommand {
  static override description = 'Show the version information (and the daemon version when it answers)';

  async run(): Promise<void> {
    const { flags } = await this.parse(Version);
    process.stdout.write(await versionOutput(flags.host));
  }
}
