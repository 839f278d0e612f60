import { Args } from '@oclif/core';
import { CliError } from '../cli/cli-error.js';
import { DaemonCommand } from '../cli/daemon-command.js';
import { DaemonUnreachableError } from '../cli/management-errors.js';

export default class Restart extends DaemonCommand {
  static override description = 'Restart one or more modules';

  static override examples = [
    '<%= config.bin %> restart tempSensor',
    '<%= config.bin %> restart edgeHub tempSensor',
  ];

  static override strict = false;

  static override args = {
    module: Args.string({ required: true, description: 'The module(s) to restart' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Restart);
    const client = await this.managementClient(flags.host);
    let failed = false;
    for (const name of argv as string[]) {
      try {
        await client.restartModule(name);
        process.stdout.write(`${name}\n`);
      } catch (error) {
        // The daemon being down fails every module alike: say it once.
        if (!(error instanceof CliError) || error instanceof DaemonUnreachableError) throw error;
        process.stderr.write(`${error.message}\n`);
        failed = true;
      }
    }
    if (failed) process.exitCode = 1;
  }
}
