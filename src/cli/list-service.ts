import { ManagementClient } from './management-client.js';
import { renderModuleList } from './list-table.js';

/** What `iotedge list [--json]` prints for the daemon at `host`. */
export async function listOutput(
  host: string,
  json: boolean,
  now: () => Date = () => new Date(),
): Promise<string> {
  const list = await new ManagementClient(host).listModules();
  return json ? `${JSON.stringify(list, null, 2)}\n` : renderModuleList(list.modules, now());
}
