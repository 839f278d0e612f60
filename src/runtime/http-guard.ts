import type { IncomingMessage, ServerResponse } from 'node:http';

import { sendJson } from './http-json.js';

export type RequestListener = (request: IncomingMessage, response: ServerResponse) => unknown;

/** Whether the request target can be read as a path (`//`, `//[` or `//a:99999` cannot). */
function readableTarget(target: string | undefined): boolean {
  try {
    new URL(target ?? '/', 'http://localhost');
    return true;
  } catch {
    return false;
  }
}

/**
 * Every request gets an answer and none can stop the daemon: a target that is not a path is 400
 * before the API sees it, a malformed %-escape the API meets is 400, and anything else the API
 * throws or rejects with becomes a 500 (or, once the answer has begun, the end of the connection),
 * logged in one line without its stack.
 */
export function guardedListener(
  server: string,
  listener: RequestListener,
  log: (line: string) => void,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    if (!readableTarget(request.url)) {
      sendJson(response, 400, { message: 'The request target is not a valid path' });
      return;
    }
    const fail = (error: unknown) => {
      if (error instanceof URIError && !response.headersSent) {
        // a path segment with a malformed %-escape, met where the API decodes it
        sendJson(response, 400, { message: 'The request path has a malformed %-escape' });
        return;
      }
      log(`${server}: ${request.method} request failed: ${(error as Error)?.message ?? String(error)}`);
      if (response.headersSent) response.destroy();
      else sendJson(response, 500, { message: 'Internal error' });
    };
    try {
      Promise.resolve(listener(request, response)).catch(fail);
    } catch (error) {
      fail(error);
    }
  };
}
