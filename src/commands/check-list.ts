import { Command } from '@oclif/core';
import { CHECKS } from '../checks/catalog.js';
import { renderCheckList } from '../checks/render-check-list.js';

export default class CheckList extends Command {
  static override description = "List the checks that are run for 'iotedge check'";

  async run(): Promise<void> {
    await this.parse(CheckList);
    process.stdout.write(renderCheckList(CHECKS));
  }
}
