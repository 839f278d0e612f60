import { ManagementClient } from './management-client.js';
import { jsonText } from './json-text.js';
import { fitConfigColumn, renderModuleList } from './list-table.js';

/**
 * What `iotedge list [--json]` prints for the daemon at `host`; `columns` is the width of the
 * terminal stdout is, undefined when it is not one (the table is then never cut).
 */
export async function listOutput(
  host: string,
  json: boolean,
  columns: number | undefined = process.stdout.isTTY ? process.stdout.columns : undefined,
  now: () => Date = () => new Date(),
): Promise<string> {
  const list = await new ManagementClient(host).listModules();
  if (json) return jsonText(list);
  const table = renderModuleList(list.modules, now());
  return columns === undefined ? table : fitConfigColumn(table, columns);
}
