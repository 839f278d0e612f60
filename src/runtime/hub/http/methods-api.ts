import type http from 'node:http';

import type { EdgeHub } from '../hub.js';
import { MethodError, type MethodCall } from '../methods.js';

const ROUTE = /^\/twins\/([^/]+)(?:\/modules\/([^/]+))?\/methods\/?$/;
const MAX_BODY = 128 * 1024;

function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

async function readBody(request: http.IncomingMessage): Promise<string | undefined> {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > MAX_BODY) return undefined;
  }
  return text;
}

/**
 * The hub's HTTPS direct-method API (reference edge-runtime.md §3.6), which the SDK's
 * `ModuleClient.invokeMethod` calls: only modules of this device may call, with their SAS token in
 * `Authorization` and their id in `x-ms-edge-moduleId`.
 */
export function methodsRequestListener(hub: EdgeHub, log: (line: string) => void) {
  return async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'https://localhost');
    const match = ROUTE.exec(url.pathname);
    if (request.method !== 'POST' || !match) {
      send(response, 404, { message: `No route for ${request.method} ${url.pathname}` });
      return;
    }
    const caller = String(request.headers['x-ms-edge-moduleid'] ?? '');
    const [callerDevice, callerModule, ...rest] = caller.split('/');
    const token = String(request.headers.authorization ?? '');
    if (!callerDevice || !callerModule || rest.length > 0 || token === '') {
      send(response, 401, {
        message: 'Only modules may invoke methods: x-ms-edge-moduleId and Authorization are required',
      });
      return;
    }
    const auth = await hub.identities.authenticateSas(callerDevice, callerModule, token);
    if (!auth.ok) {
      log(`hub: methods: refused ${caller}: ${auth.reason}`);
      send(response, 401, { message: 'Unauthorized' });
      return;
    }
    const text = await readBody(request);
    let call: MethodCall;
    try {
      call = JSON.parse(text ?? '') as MethodCall;
      if (typeof call !== 'object' || call === null) throw new Error();
    } catch {
      send(response, 400, { message: 'the request body must be a JSON object {methodName, payload, ...}' });
      return;
    }
    const device = decodeURIComponent(match[1]!);
    const target = match[2] === undefined ? device : `${device}/${decodeURIComponent(match[2])}`;
    try {
      send(response, 200, await hub.methods.invoke(target, call));
    } catch (error) {
      if (error instanceof MethodError) send(response, error.status, { message: error.message });
      else send(response, 500, { message: (error as Error).message });
    }
  };
}
