import { CHECKS } from '../checks/catalog.js';
import { renderCheckList } from '../checks/render-check-list.js';
import { IotedgeCommand } from '../cli/iotedge-command.js';
import { checkListJson } from '../cli/plain-outputs.js';

export default class CheckList extends IotedgeCommand {
  static override description = "List the checks that are run for 'iotedge check'";

  static override enableJsonFlag = true;

  async run(): Promise<unknown> {
    await this.parse(CheckList);
    if (this.jsonEnabled()) return checkListJson(CHECKS);
    process.stdout.write(renderCheckList(CHECKS));
    return undefined;
  }
}
