import { IotedgeCommand } from '../cli/iotedge-command.js';
import { versionJson } from '../cli/plain-outputs.js';
import { versionLine } from '../version.js';

export default class Version extends IotedgeCommand {
  static override description = 'Show the version information';

  static override enableJsonFlag = true;

  async run(): Promise<unknown> {
    await this.parse(Version);
    if (this.jsonEnabled()) return versionJson();
    process.stdout.write(`${versionLine()}\n`);
    return undefined;
  }
}
