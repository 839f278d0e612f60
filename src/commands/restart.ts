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

  static override enableJsonFlag = true;

  static override args = {
    module: Args.string({ required: true, description: 'The module(s) to restart' }),
  };

  async run(): Promise<unknown> {
    const { argv, flags } = await this.parse(Restart);
    const client = await this.managementClient(flags.host);
    const json = this.jsonEnabled();
    const restarted: string[] = [];
    const failed: { module: string; error: string }[] = [];
    for (const name of argv as string[]) {
      try {
        await client.restartModule(name);
        restarted.push(name);
        if (!json) process.stdout.write(`${name}\n`);
      } catch (error) {
        // The daemon being down fails every module alike: say it once.
        if (!(error instanceof CliError) || error instanceof DaemonUnreachableError) throw error;
        failed.push({ module: name, error: error.message });
        if (!json) process.stderr.write(`${error.message}\n`);
      }
    }
    if (failed.length > 0) process.exitCode = 1;
    return json ? { restarted, failed } : undefined;
  }
}
