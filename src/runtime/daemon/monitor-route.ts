import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { monitorMessage, type MonitorLine } from '../hub/monitor/monitor-event.js';
import type { TapEvent } from '../hub/monitor/tap.js';
import { ApiError } from './management-types.js';

/** What GET /hub/monitor watches: `$upstream`, or one module input; optionally one sender. */
export interface MonitorRequest {
  input?: { module: string; input: string };
  deviceId?: string;
  moduleId?: string;
}

/** A stream of routed messages the reader may end early. */
export interface MessageWatch extends AsyncIterable<TapEvent> {
  close(): void;
}

const NAME = /^[^/\s]+$/;

function nameParam(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!NAME.test(value))
    throw new ApiError(400, `The request parameter \`${name}\` must be a name without "/" or spaces`);
  return value;
}

/** The query of GET /hub/monitor: `input=MODULE/INPUT` (else `$upstream`), `device`, `module`. */
export function parseMonitorQuery(query: URLSearchParams): MonitorRequest {
  const request: MonitorRequest = {};
  const input = query.get('input');
  if (input !== null) {
    const [module, name, ...rest] = input.split('/');
    if (!module || !name || rest.length > 0 || !NAME.test(module) || !NAME.test(name))
      throw new ApiError(400, 'The request parameter `input` must be MODULE/INPUT');
    request.input = { module, input: name };
  }
  const deviceId = nameParam(query, 'device');
  if (deviceId !== undefined) request.deviceId = deviceId;
  const moduleId = nameParam(query, 'module');
  if (moduleId !== undefined) request.moduleId = moduleId;
  return request;
}

/** The NDJSON line of a tap event. */
export function monitorLine(event: TapEvent): MonitorLine {
  return event.kind === 'dropped' ? { dropped: event.count } : monitorMessage(event.endpoint, event.message);
}

/**
 * Answers with one JSON object per line as messages are routed, until the client goes away. The
 * headers go out at once: once the client has them, the watch is in place.
 */
export async function sendMonitorStream(
  response: ServerResponse,
  watch: MessageWatch,
  signal: AbortSignal,
): Promise<void> {
  const stop = () => watch.close();
  signal.addEventListener('abort', stop, { once: true });
  try {
    response.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
    response.flushHeaders();
    for await (const event of watch) {
      if (!response.write(`${JSON.stringify(monitorLine(event))}\n`)) {
        await once(response, 'drain', { signal }).catch(() => undefined);
      }
    }
    response.end();
  } finally {
    signal.removeEventListener('abort', stop);
    watch.close();
  }
}
