import type net from 'node:net';
import type tls from 'node:tls';

import type { Binding } from '../deployment/listen-ports.js';
import { guardConnections, type ConnectionGuardOptions } from './connection-guard.js';

/** A TLS server listening on a binding, with the sockets it holds (so that closing can end them). */
export type Listener = {
  binding: Binding;
  server: tls.Server;
  sockets: Set<net.Socket>;
  secure: Set<tls.TLSSocket>;
};

/**
 * Listens on `binding`, its connections under `guard`'s limits; the error names the address and the
 * system's reason (EADDRINUSE).
 */
export function listen(
  binding: Binding,
  server: tls.Server,
  guard: ConnectionGuardOptions,
): Promise<Listener> {
  guardConnections(server, guard);
  const sockets = new Set<net.Socket>();
  const secure = new Set<tls.TLSSocket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    secure.add(socket);
    socket.once('close', () => secure.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`cannot listen on ${binding.host}:${binding.port}: ${error.code ?? error.message}`)),
    );
    server.listen({ host: binding.host, port: binding.port }, () =>
      resolve({ binding, server, sockets, secure }),
    );
  });
}

/** Stops listening and ends every connection, then resolves once the server reports closed. */
export async function closeListener(listener: Listener | undefined): Promise<void> {
  if (!listener) return;
  const closed = new Promise((resolve) => listener.server.close(resolve));
  // TLS sockets before the TCP sockets under them (the other order can crash Node 20 at exit)
  for (const socket of listener.secure) socket.destroy();
  await new Promise((resolve) => setImmediate(resolve));
  for (const socket of listener.sockets) socket.destroy();
  await closed;
}
