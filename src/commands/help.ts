import { Args, Command, loadHelpClass } from '@oclif/core';

export default class HelpCommand extends Command {
  static override description = 'Prints this message or the help of the given subcommand(s)';
  static override strict = false;
  static override args = {
    command: Args.string({ required: false, description: 'Command to show help for' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(HelpCommand);
    const Help = await loadHelpClass(this.config);
    await new Help(this.config).showHelp(argv as string[]);
  }
}
