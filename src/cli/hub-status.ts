import type { HubStatusReport } from '../runtime/daemon/management-types.js';
import { formatUptime, renderQueues, renderUpstream } from './system-status.js';

/** Left-aligned columns, two spaces apart; the last column is not padded. */
function columns(rows: readonly string[][], indent = '  '): string[] {
  const widths = rows[0]?.map((_, index) => Math.max(...rows.map((row) => row[index]?.length ?? 0))) ?? [];
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!)))
        .join('  ')
        .trimEnd(),
  );
}

/** Seconds from an RFC 3339 time to `now`, never negative. */
const secondsSince = (time: string, now: Date) => Math.max(0, (now.getTime() - Date.parse(time)) / 1000);

function routeOptions(route: HubStatusReport['routes'][number]): string {
  const options = [
    ...(route.priority === null ? [] : [`priority ${route.priority}`]),
    ...(route.timeToLiveSecs > 0 ? [`time to live ${formatUptime(route.timeToLiveSecs)}`] : []),
  ];
  return options.length === 0 ? '' : `(${options.join(', ')})`;
}

/**
 * The text of `iotedge hub status`: since when the hub runs, its upstream link, the routes in
 * effect, the clients connected now, what each endpoint holds and what the hub counted.
 */
export function renderHubStatus(status: HubStatusReport, now: Date = new Date()): string {
  const since = status.startTime
    ? `running since ${status.startTime} (${formatUptime(secondsSince(status.startTime, now))})`
    : 'running';
  const { counters } = status;
  return [
    `Edge Hub: ${since}`,
    `Upstream: ${renderUpstream(status.upstream)}`,
    ...(status.routes.length === 0
      ? ['Routes:   none']
      : [
          `Routes (${status.routes.length}):`,
          ...columns(status.routes.map((route) => [route.name, route.route, routeOptions(route)])),
        ]),
    ...(status.clients.length === 0
      ? ['Clients:  none connected']
      : [
          `Clients (${status.clients.length} connected):`,
          ...columns(
            status.clients.map((client) => [
              client.id,
              client.protocol ?? '-',
              client.connectedSince
                ? `since ${client.connectedSince} (${formatUptime(secondsSince(client.connectedSince, now))})`
                : '',
            ]),
          ),
        ]),
    ...renderQueues(status.queues),
    'Messages since the hub started:',
    `  received ${counters.received} (routed ${counters.routed}, matching no route ${counters.unrouted}), ` +
      `delivered ${counters.delivered}, expired ${counters.expired}, dropped for a full store ${counters.evicted}`,
    '',
  ].join('\n');
}
