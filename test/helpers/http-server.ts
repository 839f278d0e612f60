import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

import { listenTracked } from './tls-servers.js';

export interface TestHttpServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 (ephemeral port) answering with `handler`. */
export async function startHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestHttpServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res);
  });
  const listening = await listenTracked(server);
  return {
    port: listening.port,
    origin: `http://127.0.0.1:${listening.port}`,
    requests,
    close: listening.close,
  };
}
