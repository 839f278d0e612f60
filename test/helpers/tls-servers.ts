import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

import type { KeyedCertificate } from './certs.js';

export interface TestServer {
  port: number;
  /** How many TCP connections the server accepted so far. */
  accepted(): number;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 on an ephemeral port; `close()` also ends the connections still open. */
export async function listenTracked(
  server: Server,
  connectionEvent = 'connection',
  port = 0,
): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on(connectionEvent, (socket: Socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A TLS server presenting `identity`; it completes handshakes and then closes the connection. */
export function startTlsServer(identity: KeyedCertificate): Promise<TestServer> {
  const server = createTlsServer({ cert: identity.cert, key: identity.key }, (socket) => socket.end());
  server.on('tlsClientError', () => undefined);
  return listenTracked(server);
}

/** Accepts TCP connections and never sends a byte: a TLS client waits forever. */
export function startSilentServer(): Promise<TestServer> {
  return listenTracked(createTcpServer());
}

/** A loopback port nothing listens on (it was bound a moment ago, then released). */
export async function closedPort(): Promise<number> {
  const server = await listenTracked(createTcpServer());
  await server.close();
  return server.port;
}
