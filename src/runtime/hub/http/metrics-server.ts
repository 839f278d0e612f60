import http from 'node:http';

import { guardedListener } from '../../http-guard.js';

/** Serves `GET /metrics` in the Prometheus text format; anything else is 404. */
export function metricsServer(
  source: { contentType: string; render(): Promise<string> },
  log: (line: string) => void,
): http.Server {
  return http.createServer(
    guardedListener(
      'metrics',
      async (request, response) => {
        const path = new URL(request.url ?? '/', 'http://localhost').pathname;
        if (request.method !== 'GET' || path !== '/metrics') {
          response.writeHead(404).end();
          return;
        }
        const text = await source.render();
        response.writeHead(200, { 'Content-Type': source.contentType }).end(text);
      },
      log,
    ),
  );
}
