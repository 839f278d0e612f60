import http from 'node:http';

/** Serves `GET /metrics` in the Prometheus text format; anything else is 404. */
export function metricsServer(source: { contentType: string; render(): Promise<string> }): http.Server {
  return http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    source.render().then(
      (text) => response.writeHead(200, { 'Content-Type': source.contentType }).end(text),
      (error: Error) => response.writeHead(500, { 'Content-Type': 'text/plain' }).end(error.message),
    );
  });
}
