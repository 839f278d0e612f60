import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

import { listenTracked } from './tls-servers.js';

export interface ProxyOptions {
  /** Require these Basic credentials, answering 407 otherwise. */
  auth?: { username: string; password: string };
  /** Answer every CONNECT with this status instead of tunnelling. */
  refuseWith?: number;
}

export interface TestProxy {
  port: number;
  /** `http://[user:password@]127.0.0.1:port` for the configured credentials. */
  url: string;
  /** Targets (`host:port`) of the CONNECT requests received, in order. */
  requests: string[];
  /** The Proxy-Authorization header of each CONNECT request (undefined when absent). */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const STATUS_TEXT: Record<number, string> = {
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  502: 'Bad Gateway',
};

function answer(socket: Duplex, status: number, extraHeaders: string[] = []): void {
  const head = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Refused'}`,
    ...extraHeaders,
    'Content-Length: 0',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n`);
}

/** An HTTP CONNECT proxy on 127.0.0.1 that only tunnels to loopback targets. */
export async function startConnectProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const requests: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const upstreams = new Set<Socket>();
  const expected = options.auth
    ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
    : undefined;

  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const target = req.url ?? '';
    requests.push(target);
    authorizations.push(req.headers['proxy-authorization']);
    client.on('error', () => undefined);
    if (options.refuseWith !== undefined) return answer(client, options.refuseWith);
    if (expected !== undefined && req.headers['proxy-authorization'] !== expected) {
      return answer(client, 407, ['Proxy-Authenticate: Basic realm="test"']);
    }
    const match = /^(.+):(\d+)$/.exec(target);
    if (!match || !LOOPBACK.has(match[1])) return answer(client, 403);
    const upstream = connect({ host: match[1].replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) });
    upstreams.add(upstream);
    upstream.on('close', () => upstreams.delete(upstream));
    upstream.once('error', () => answer(client, 502));
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  });

  const listening = await listenTracked(server);
  const credentials = options.auth
    ? `${encodeURIComponent(options.auth.username)}:${encodeURIComponent(options.auth.password)}@`
    : '';
  return {
    port: listening.port,
    url: `http://${credentials}127.0.0.1:${listening.port}`,
    requests,
    authorizations,
    close: async () => {
      for (const upstream of upstreams) upstream.destroy();
      await listening.close();
    },
  };
}
