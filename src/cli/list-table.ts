import type { ModuleDetails } from '../runtime/daemon/management-types.js';
import { humanizeSince } from './humanize.js';

/**
 * Rust `tabwriter` with IoT Edge's settings (minwidth 15, padding 2): every cell but a line's last
 * is padded to the width of its column (elastic: the widest cell among the adjacent lines that have
 * that column, at least `minWidth`) plus `padding` spaces.
 */
export function tabwrite(rows: readonly (readonly string[])[], minWidth = 15, padding = 2): string {
  const cells = rows.map((row) => row.map((cell) => cell.replace(/[\t\r\n]/g, ' ')));
  const widthOf = (text: string): number => [...text].length;
  const widths: number[][] = cells.map(() => []);
  cells.forEach((line, i) => {
    for (let column = widths[i].length; column < line.length - 1; column += 1) {
      let end = i;
      let width = minWidth;
      while (end < cells.length && column < cells[end].length - 1) {
        width = Math.max(width, widthOf(cells[end][column]));
        end += 1;
      }
      for (let j = i; j < end; j += 1) widths[j].push(width);
    }
  });
  return cells
    .map((line, i) =>
      line
        .map((cell, column) =>
          column < line.length - 1 ? cell + ' '.repeat(widths[i][column] - widthOf(cell) + padding) : cell,
        )
        .join(''),
    )
    .concat('')
    .join('\n');
}

const parseTime = (text: string | undefined): Date | undefined => {
  if (!text) return undefined;
  const time = new Date(text);
  return Number.isNaN(time.getTime()) ? undefined : time;
};

/** The STATUS words of IoT Edge 1.1's `iotedge list`, which scripts match on. */
export type ListStatus = 'running' | 'stopped' | 'failed' | 'dead' | 'unknown';

/**
 * The STATUS column, in 1.1's words as it derives them from the container: an unhealthy module
 * still runs; one waiting to be restarted (backoff) has exited, so it is `failed`, or `stopped`
 * when it exited with code 0. The richer state goes to the DESCRIPTION column.
 */
export function listStatus(module: ModuleDetails): ListStatus {
  const status = module.status.runtimeStatus.status;
  switch (status) {
    case 'running':
    case 'unhealthy':
      return 'running';
    case 'backoff':
      return module.status.exitStatus?.statusCode === '0' ? 'stopped' : 'failed';
    case 'stopped':
    case 'failed':
    case 'dead':
      return status;
    default:
      return 'unknown';
  }
}

/** Descriptions that say nothing the row does not: a container engine's state word, the exit code. */
const REDUNDANT_DESCRIPTION =
  /^(?:created|running|paused|restarting|removing|exited|dead|exited with code -?\d+)$/i;

/**
 * The DESCRIPTION column: 1.1's text for the STATUS (`Up 3 minutes`, `Stopped 2 days ago`,
 * `Failed (137) a minute ago`), then, after ` - `, what 1.1 does not show: the richer state
 * (`backoff`, `unhealthy`) and the reason the daemon gives (`Failed - listen EADDRINUSE ...`).
 */
export function describeStatus(module: ModuleDetails, now: Date): string {
  const { status } = module;
  const started = parseTime(status.startTime);
  const exited = parseTime(status.exitStatus?.exitTime);
  const code = status.exitStatus?.statusCode;
  const shown = listStatus(module);
  let text: string;
  if (shown === 'running') text = started ? `Up ${humanizeSince(started, now, 'present')}` : 'Up';
  else if (shown === 'stopped' || shown === 'dead')
    text = exited ? `Stopped ${humanizeSince(exited, now, 'past')}` : 'Stopped';
  else if (shown === 'failed')
    text = code !== undefined && exited ? `Failed (${code}) ${humanizeSince(exited, now, 'past')}` : 'Failed';
  else text = 'Unknown';
  const rich = status.runtimeStatus.status;
  const reason = status.runtimeStatus.description?.trim() ?? '';
  const details = [
    ...(rich === 'backoff' || rich === 'unhealthy' ? [rich] : []),
    ...(reason !== '' && !REDUNDANT_DESCRIPTION.test(reason) ? [reason] : []),
  ];
  return details.length > 0 ? `${text} - ${details.join(': ')}` : text;
}

const shellWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;

/** The CONFIG column: the image of a docker module, the command line of a process module. */
export function moduleConfig(module: ModuleDetails): string {
  const settings = module.config?.settings ?? {};
  if (module.type === 'docker') return typeof settings.image === 'string' ? settings.image : '';
  if (typeof settings.command !== 'string') return '';
  const args = Array.isArray(settings.args) ? settings.args.filter((arg) => typeof arg === 'string') : [];
  return [settings.command, ...args].map(shellWord).join(' ');
}

const byteOrder = (a: ModuleDetails, b: ModuleDetails): number =>
  Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));

/** `iotedge list`: the 1.1 table, sorted by module name (`list --json` keeps the daemon's own status). */
export function renderModuleList(modules: readonly ModuleDetails[], now: Date): string {
  const rows = [...modules]
    .sort(byteOrder)
    .map((module) => [module.name, listStatus(module), describeStatus(module, now), moduleConfig(module)]);
  return tabwrite([['NAME', 'STATUS', 'DESCRIPTION', 'CONFIG'], ...rows]);
}

/** The fewest characters of CONFIG that a terminal-width cut leaves (the image name's start). */
const MIN_CONFIG_WIDTH = 12;

/**
 * `iotedge list` on a terminal `columns` wide: a CONFIG value that would wrap is cut to fit and
 * ends in `…` (the other columns and the whole value when piped are left as they are). A terminal
 * too narrow for the other columns and a few characters of CONFIG gets the lines unchanged.
 */
export function fitConfigColumn(table: string, columns: number): string {
  const lines = table.split('\n');
  const configStart = [...lines[0]].length - 'CONFIG'.length;
  const room = columns - configStart;
  if (room < MIN_CONFIG_WIDTH) return table;
  return lines
    .map((line) => {
      const chars = [...line];
      return chars.length <= columns ? line : `${chars.slice(0, columns - 1).join('')}…`;
    })
    .join('\n');
}
