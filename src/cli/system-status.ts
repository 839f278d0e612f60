import type { HubQueue, ModuleDetails } from '../runtime/daemon/management-types.js';
import type { UpstreamReport } from '../runtime/daemon/upstream-service.js';

/** What `iotedge system status` shows; also its `--json` shape. */
export interface SystemStatus {
  daemon: { host: string; running: true; version: string; uptimeSeconds: number };
  modules: Record<string, number>;
  /** What each endpoint of the Edge Hub holds; absent while the hub is not running. */
  queues?: HubQueue[];
  /** The Edge Hub's upstream link; absent from a daemon that does not report it. */
  upstream?: UpstreamReport;
}

/**
 * The upstream line: `none (reason)`, `AMQP to host:port (parent), connected since T`, or
 * `MQTT to host:port (iothub), offline since T: last error`; the deployment's `UpstreamProtocol`
 * in brackets when it names one.
 */
export function renderUpstream(upstream: UpstreamReport): string {
  if (!('since' in upstream)) return `none (${upstream.lastError})`;
  const asked = upstream.requestedProtocol ? ` (UpstreamProtocol ${upstream.requestedProtocol})` : '';
  const where = `${upstream.protocol}${asked} to ${upstream.target} (${upstream.kind === 'parent' ? 'parent edge device' : 'IoT Hub'})`;
  if (upstream.connected) return `${where}, connected since ${upstream.since}`;
  const error = upstream.lastError === undefined ? '' : `; last error: ${upstream.lastError}`;
  return `${where}, offline since ${upstream.since}${error}`;
}

const STATUS_ORDER = ['running', 'backoff', 'unhealthy', 'stopped', 'failed', 'dead', 'unknown'];

/** Module counts per runtime status, in a fixed order (statuses with no module left out). */
export function countModules(modules: readonly ModuleDetails[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const module of modules) {
    const status = String(module.status.runtimeStatus.status);
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  const rank = (status: string): number => {
    const index = STATUS_ORDER.indexOf(status);
    return index === -1 ? STATUS_ORDER.length : index;
  };
  return Object.fromEntries([...counts].sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : 1)));
}

const UNITS: [string, number][] = [
  ['day', 86_400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

const counted = (count: number, unit: string): string => `${count} ${unit}${count === 1 ? '' : 's'}`;

/** An uptime in its largest unit and the next one: `3 days 4 hours`, `5 minutes 2 seconds`, `1 hour`. */
export function formatUptime(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const index = UNITS.findIndex(([, size]) => seconds >= size);
  if (index === -1) return counted(0, 'second');
  const [unit, size] = UNITS[index];
  const text = counted(Math.floor(seconds / size), unit);
  const next = UNITS[index + 1];
  if (!next) return text;
  const rest = Math.floor((seconds % size) / next[1]);
  return rest > 0 ? `${text} ${counted(rest, next[0])}` : text;
}

export function renderSystemStatus(status: SystemStatus): string {
  const counts = Object.entries(status.modules);
  const total = counts.reduce((sum, [, count]) => sum + count, 0);
  const summary =
    total === 0
      ? 'none'
      : `${counts.map(([name, count]) => `${count} ${name}`).join(', ')} (${total} in all)`;
  return [
    `iotedged is running at ${status.daemon.host}`,
    `Version: ${status.daemon.version}`,
    `Uptime:  ${formatUptime(status.daemon.uptimeSeconds)}`,
    `Modules: ${summary}`,
    ...(status.upstream ? [`Upstream: ${renderUpstream(status.upstream)}`] : []),
    ...(status.queues ? renderQueues(status.queues) : []),
    '',
  ].join('\n');
}

/** Bytes in the largest binary unit under 1024 of it: `512 B`, `3.4 KiB`, `12.0 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** One line per endpoint of the hub: messages held, their bytes, the oldest one's age, duplicates. */
export function renderQueues(queues: readonly HubQueue[]): string[] {
  if (queues.length === 0) return ['Queues:  none'];
  return [
    'Queues:',
    ...queues.map((queue) => {
      const parts = [counted(queue.messages, 'message'), formatBytes(queue.bytes)];
      if (queue.oldestMessageAgeSeconds !== null)
        parts.push(`oldest ${formatUptime(queue.oldestMessageAgeSeconds)}`);
      if (queue.duplicates > 0) parts.push(`${queue.duplicates} sent again after a restart`);
      return `  ${queue.endpoint}: ${parts.join(', ')}`;
    }),
  ];
}
