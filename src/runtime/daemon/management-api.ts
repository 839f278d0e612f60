import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogLine, LogOptions } from '../modules/types.js';
import { parseTimeValue } from '../time-args.js';
import { parseApiVersion, servesVersion, type ApiVersion } from './api-version.js';
import {
  DEPLOYMENT_NOTES_HEADER,
  DEPLOYMENT_SOURCE_HEADER,
  encodeDeploymentNotes,
} from './deployment-notes.js';
import { encodeLogFrame } from './log-frames.js';
import { parseMonitorQuery, sendMonitorStream } from './monitor-route.js';
import { readBodyText, sendJson } from '../http-json.js';
import { parseJsonQuietly } from '../json-syntax.js';
import {
  ApiError,
  type CloudToDeviceInvocation,
  type ManagementBackend,
  type MethodInvocation,
} from './management-types.js';

type Handler = (request: Request) => Promise<void>;

interface Request {
  params: string[];
  query: URLSearchParams;
  body: () => Promise<unknown>;
  response: ServerResponse;
  signal: AbortSignal;
}

interface Route {
  method: string;
  pattern: RegExp;
  since: ApiVersion;
  handler: Handler;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

function sendEmpty(response: ServerResponse, status: number): void {
  response.writeHead(status);
  response.end();
}

function booleanParam(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === '') return false;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ApiError(400, `The request parameter \`${name}\` is malformed`);
}

/** `since`/`until`: RFC 3339, unix seconds or a duration before `now` (`1 day`), as the CLI accepts them. */
function timeParam(query: URLSearchParams, name: string, now: Date): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  const seconds = parseTimeValue(value, now);
  if (seconds === undefined) throw new ApiError(400, `The request parameter \`${name}\` is malformed`);
  return seconds;
}

/** The logs route's query; `now` anchors durations. */
export function parseLogOptions(query: URLSearchParams, now: Date = new Date()): LogOptions {
  const tail = query.get('tail') ?? 'all';
  if (tail !== 'all' && !/^\d+$/.test(tail))
    throw new ApiError(400, 'The request parameter `tail` is malformed');
  return {
    follow: booleanParam(query, 'follow'),
    timestamps: booleanParam(query, 'timestamps'),
    tail: tail === 'all' ? undefined : Number(tail),
    since: timeParam(query, 'since', now),
    until: timeParam(query, 'until', now),
  };
}

/** Answers with log lines in Docker's multiplexed frames, as they come (a follower's until it aborts). */
async function sendLogLines(
  response: ServerResponse,
  options: LogOptions,
  lines: AsyncIterable<LogLine>,
): Promise<void> {
  response.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  for await (const line of lines) {
    const text = (options.timestamps ? `${line.time.toISOString()} ` : '') + `${line.text}\n`;
    if (!response.write(encodeLogFrame(line.stream, text))) {
      await new Promise<void>((resolve) => response.once('drain', resolve));
    }
  }
  response.end();
}

/** A request body that must be a JSON object; 400 naming the expected shape otherwise. */
function jsonObject<T>(body: unknown, shape: string): T {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ApiError(400, `expected a JSON object ${shape}`);
  return body as T;
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const text = await readBodyText(request, MAX_BODY_BYTES);
  if (text === undefined) throw new ApiError(413, 'Request body is too large');
  // JSON.parse's own message quotes the text around the error: a key or password the body holds
  const parsed = parseJsonQuietly(text);
  if (!parsed.ok) throw new ApiError(400, `Request body is malformed: ${parsed.message}`);
  return parsed.value;
}

/**
 * The management API's routes (as IoT Edge 1.1 has it) over a backend. Agent-only routes
 * (creating, updating and deleting modules and identities) are not served: the agent is embedded
 * in the daemon and does not call them; deployments arrive through POST /deployment instead.
 */
export function managementRoutes(backend: ManagementBackend): Route[] {
  const name = (request: Request) => {
    try {
      return decodeURIComponent(request.params[0]);
    } catch {
      throw new ApiError(400, `malformed escape in the path segment ${JSON.stringify(request.params[0])}`);
    }
  };
  return [
    {
      method: 'GET',
      pattern: /^\/modules$/,
      since: '2018-06-28',
      handler: async ({ response }) => sendJson(response, 200, { modules: await backend.listModules() }),
    },
    {
      method: 'GET',
      pattern: /^\/modules\/([^/]+)$/,
      since: '2018-06-28',
      handler: async (request) => sendJson(request.response, 200, await backend.getModule(name(request))),
    },
    {
      method: 'POST',
      pattern: /^\/modules\/([^/]+)\/start$/,
      since: '2018-06-28',
      handler: async (request) =>
        sendEmpty(request.response, (await backend.startModule(name(request))) ? 204 : 304),
    },
    {
      method: 'POST',
      pattern: /^\/modules\/([^/]+)\/stop$/,
      since: '2018-06-28',
      handler: async (request) =>
        sendEmpty(request.response, (await backend.stopModule(name(request))) ? 204 : 304),
    },
    {
      method: 'POST',
      pattern: /^\/modules\/([^/]+)\/restart$/,
      since: '2018-06-28',
      handler: async (request) => {
        await backend.restartModule(name(request));
        sendEmpty(request.response, 204);
      },
    },
    {
      method: 'GET',
      pattern: /^\/modules\/([^/]+)\/logs$/,
      since: '2018-06-28',
      handler: async (request) => {
        const options = parseLogOptions(request.query);
        const lines = await backend.moduleLogs(name(request), options, request.signal);
        await sendLogLines(request.response, options, lines);
      },
    },
    {
      method: 'GET',
      pattern: /^\/identities\/?$/,
      since: '2018-06-28',
      handler: async ({ response }) =>
        sendJson(response, 200, { identities: await backend.listIdentities() }),
    },
    {
      method: 'GET',
      pattern: /^\/systeminfo$/,
      since: '2018-06-28',
      handler: async ({ response }) => sendJson(response, 200, await backend.systemInfo()),
    },
    {
      method: 'GET',
      pattern: /^\/systeminfo\/resources$/,
      since: '2019-11-05',
      handler: async ({ response }) => sendJson(response, 200, await backend.systemResources()),
    },
    {
      method: 'GET',
      pattern: /^\/systeminfo\/logs$/,
      since: '2020-07-07',
      handler: async (request) => {
        const options = parseLogOptions(request.query);
        await sendLogLines(request.response, options, await backend.daemonLogs(options, request.signal));
      },
    },
    {
      method: 'POST',
      pattern: /^\/deployment$/,
      since: '2020-07-07',
      handler: async (request) => {
        const { code, reported, notes } = await backend.deploy(await request.body());
        if (notes) request.response.setHeader(DEPLOYMENT_NOTES_HEADER, encodeDeploymentNotes(notes));
        sendJson(request.response, code, reported);
      },
    },
    {
      method: 'POST',
      pattern: /^\/methods$/,
      since: '2020-07-07',
      handler: async (request) => {
        const call = jsonObject<MethodInvocation>(await request.body(), '{target, methodName, payload, ...}');
        if (typeof call.target !== 'string' || call.target === '')
          throw new ApiError(400, 'target: expected a module name or a leaf device id');
        sendJson(request.response, 200, await backend.invokeMethod(call));
      },
    },
    {
      method: 'GET',
      pattern: /^\/devices\/?$/,
      since: '2020-07-07',
      handler: async ({ response }) => sendJson(response, 200, { devices: await backend.listDevices() }),
    },
    {
      method: 'POST',
      pattern: /^\/devices\/?$/,
      since: '2020-07-07',
      handler: async (request) =>
        sendJson(request.response, 201, await backend.addDevice(await request.body())),
    },
    {
      method: 'DELETE',
      pattern: /^\/devices\/([^/]+)$/,
      since: '2020-07-07',
      handler: async (request) => {
        await backend.removeDevice(name(request));
        sendEmpty(request.response, 204);
      },
    },
    {
      method: 'POST',
      pattern: /^\/devices\/([^/]+)\/messages$/,
      since: '2020-07-07',
      handler: async (request) => {
        const message = jsonObject<CloudToDeviceInvocation>(await request.body(), '{data, properties, ...}');
        if (typeof message.data !== 'string')
          throw new ApiError(400, 'data: expected the message body as a string');
        for (const field of ['messageId', 'correlationId'] as const) {
          if (message[field] !== undefined && typeof message[field] !== 'string')
            throw new ApiError(400, `${field}: expected a string`);
        }
        if (
          message.properties !== undefined &&
          (typeof message.properties !== 'object' || message.properties === null)
        )
          throw new ApiError(400, 'properties: expected an object of string values');
        sendJson(request.response, 200, await backend.sendCloudToDevice(name(request), message));
      },
    },
    {
      method: 'PATCH',
      pattern: /^\/devices\/([^/]+)\/twin$/,
      since: '2020-07-07',
      handler: async (request) => {
        const update = jsonObject<{ properties?: { desired?: unknown } }>(
          await request.body(),
          '{properties: {desired: {...}}}',
        );
        sendJson(
          request.response,
          200,
          await backend.patchDeviceDesired(name(request), update.properties?.desired),
        );
      },
    },
    {
      method: 'POST',
      pattern: /^\/devices\/([^/]+)\/deployment$/,
      since: '2020-07-07',
      handler: async (request) =>
        sendJson(request.response, 200, await backend.deployToDevice(name(request), await request.body())),
    },
    {
      method: 'GET',
      pattern: /^\/devices\/([^/]+)\/deployment\/status(\/edgeHub)?$/,
      since: '2020-07-07',
      handler: async (request) =>
        sendJson(
          request.response,
          200,
          await backend.deviceDeploymentStatus(name(request), request.params[1] ? '$edgeHub' : '$edgeAgent'),
        ),
    },
    {
      method: 'GET',
      pattern: /^\/deployment\/status$/,
      since: '2020-07-07',
      handler: async ({ response }) => {
        const reported = await backend.deploymentStatus();
        response.setHeader(DEPLOYMENT_SOURCE_HEADER, backend.deploymentSource());
        sendJson(response, 200, reported);
      },
    },
    {
      method: 'GET',
      pattern: /^\/deployment\/status\/edgeHub$/,
      since: '2020-07-07',
      handler: async ({ response }) => sendJson(response, 200, await backend.hubReported()),
    },
    {
      method: 'GET',
      pattern: /^\/hub\/queues$/,
      since: '2020-07-07',
      handler: async ({ response }) => sendJson(response, 200, { queues: await backend.hubQueues() }),
    },
    {
      method: 'POST',
      pattern: /^\/device\/reprovision$/,
      since: '2019-10-22',
      handler: async ({ response }) => sendJson(response, 200, await backend.reprovision()),
    },
    {
      method: 'GET',
      pattern: /^\/hub\/status$/,
      since: '2020-07-07',
      handler: async ({ response }) => sendJson(response, 200, await backend.hubStatus()),
    },
    {
      method: 'GET',
      pattern: /^\/hub\/monitor$/,
      since: '2020-07-07',
      handler: async (request) => {
        const watch = await backend.watchMessages(parseMonitorQuery(request.query));
        await sendMonitorStream(request.response, watch, request.signal);
      },
    },
    {
      method: 'GET',
      pattern: /^\/systeminfo\/upstream$/,
      since: '2020-07-07',
      handler: async ({ response }) => sendJson(response, 200, await backend.upstreamStatus()),
    },
  ];
}

/** The request listener: api-version checks, routing, and JSON error bodies. */
export function managementRequestListener(backend: ManagementBackend, log: (line: string) => void) {
  const routes = managementRoutes(backend);
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const abort = new AbortController();
    response.on('close', () => abort.abort());
    try {
      const version = parseApiVersion(url.searchParams.get('api-version'));
      if (!version)
        throw new ApiError(400, `Invalid API version "${url.searchParams.get('api-version') ?? ''}"`);
      const route = routes.find(
        (candidate) => candidate.method === request.method && candidate.pattern.test(url.pathname),
      );
      if (!route || !servesVersion(version, route.since)) return sendEmpty(response, 404);
      await route.handler({
        params: route.pattern.exec(url.pathname)!.slice(1),
        query: url.searchParams,
        body: () => readJsonBody(request),
        response,
        signal: abort.signal,
      });
    } catch (error) {
      // a client that went away before its request was read (a slow client aborting) is no failure
      // of the API: one line, and no answer to send
      if (request.destroyed && !request.complete) {
        log(
          `management API ${request.method} ${url.pathname}: the client went away before sending its request`,
        );
        return;
      }
      if (response.headersSent) {
        response.destroy();
        return;
      }
      if (error instanceof ApiError)
        return sendJson(response, error.status, { message: error.message, ...error.extra });
      log(
        `management API ${request.method} ${url.pathname} failed: ${(error as Error).stack ?? String(error)}`,
      );
      sendJson(response, 500, { message: (error as Error).message });
    }
  };
}
