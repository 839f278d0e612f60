import type http from 'node:http';

import { readBodyText, sendJson } from '../../http-json.js';
import type { EdgeHub } from '../hub.js';
import { HubRequestError } from '../hub-request-error.js';
import type { MethodCall } from '../methods.js';

const ROUTE = /^\/twins\/([^/]+)(?:\/modules\/([^/]+))?\/methods\/?$/;
const MAX_BODY = 128 * 1024;

/**
 * The hub's HTTPS direct-method API (as IoT Edge has it), which the SDK's
 * `ModuleClient.invokeMethod` calls: only modules of this device may call, with their SAS token in
 * `Authorization` and their id in `x-ms-edge-moduleId`.
 */
export function methodsRequestListener(hub: EdgeHub, log: (line: string) => void) {
  return async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'https://localhost');
    const match = ROUTE.exec(url.pathname);
    if (request.method !== 'POST' || !match) {
      sendJson(response, 404, { message: `No route for ${request.method} ${url.pathname}` });
      return;
    }
    const caller = String(request.headers['x-ms-edge-moduleid'] ?? '');
    const [callerDevice, callerModule, ...rest] = caller.split('/');
    const token = String(request.headers.authorization ?? '');
    if (!callerDevice || !callerModule || rest.length > 0 || token === '') {
      sendJson(response, 401, {
        message: 'Only modules may invoke methods: x-ms-edge-moduleId and Authorization are required',
      });
      return;
    }
    const auth = await hub.verifyCredentials(callerDevice, callerModule, { sas: token });
    if (!auth.ok) {
      log(`hub: methods: refused ${caller}: ${auth.reason}`);
      sendJson(response, 401, { message: 'Unauthorized' });
      return;
    }
    const text = await readBodyText(request, MAX_BODY);
    let call: MethodCall;
    try {
      call = JSON.parse(text ?? '') as MethodCall;
      if (typeof call !== 'object' || call === null) throw new Error();
    } catch {
      sendJson(response, 400, {
        message: 'the request body must be a JSON object {methodName, payload, ...}',
      });
      return;
    }
    const device = decodeURIComponent(match[1]!);
    const target = match[2] === undefined ? device : `${device}/${decodeURIComponent(match[2])}`;
    try {
      sendJson(response, 200, await hub.invokeMethod(target, call));
    } catch (error) {
      if (error instanceof HubRequestError) sendJson(response, error.status, { message: error.message });
      else sendJson(response, 500, { message: (error as Error).message });
    }
  };
}
