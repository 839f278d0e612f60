import { Command } from '@oclif/core';
import { versionLine } from '../version.js';

export default class Version extends Command {
  static override description = 'Show the version information';

  async run(): Promise<void> {
    await this.parse(Version);
    process.stdout.write(`${versionLine()}\n`);
  }
}
