import type http from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';

import { ThrottledCount } from './throttled-count.js';

export interface ConnectionGuardOptions {
  /** How log lines name the listener: `MQTT`, `HTTPS`, `metrics`. */
  name: string;
  /** Connections open at once; a connection beyond it is closed as soon as it is accepted. */
  maxConnections: number;
  /** How long a connection has, from its TCP accept, to reach `settledBy`; else it is destroyed. */
  deadlineMs: number;
  /**
   * `handshake`: the TLS handshake is done (what comes next has deadlines of its own, such as the
   * MQTT CONNECT's); `request`: the first HTTP request's (or WebSocket upgrade's) headers have arrived (Node closes an idle
   * HTTP connection only once it has sent something).
   */
  settledBy: 'handshake' | 'request';
  log(line: string): void;
}

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/**
 * The TCP socket a connection's deadline is kept on. A TLS server socket wraps the accepted TCP
 * socket and keeps it as its parent; destroying the TLS socket during the handshake leaves the
 * TCP socket open, so the deadline must end the TCP socket itself.
 */
function tcpSocketOf(socket: net.Socket): net.Socket {
  if (!(socket instanceof tls.TLSSocket)) return socket;
  return (socket as tls.TLSSocket & { _parent?: net.Socket })._parent ?? socket;
}

/**
 * Puts a listener's connections under limits: at most `maxConnections` at once (Node closes the
 * ones beyond at accept, before any byte is read; the existing ones are not touched), and a
 * deadline on each connection until it settles. Refusals, missed deadlines and accept failures
 * (no descriptors left) are logged at most once a minute each, with their counts, so that a flood
 * of connections cannot flood the log, and an accept failure never stops the daemon.
 */
export function guardConnections(server: net.Server, options: ConnectionGuardOptions): void {
  const { name, log } = options;
  server.maxConnections = options.maxConnections;
  const refused = new ThrottledCount();
  server.on('drop', () => {
    const count = refused.add(Date.now());
    if (count !== undefined)
      log(
        `hub: ${name}: ${options.maxConnections} connections open (the limit): closed ${plural(count, 'new connection', 'new connections')} at once (${refused.total} so far)`,
      );
  });

  const what = options.settledBy === 'handshake' ? 'finish the TLS handshake' : 'send a request';
  const late = new ThrottledCount();
  const deadlines = new Map<net.Socket, NodeJS.Timeout>();
  const settle = (socket: net.Socket) => {
    const timer = deadlines.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    deadlines.delete(socket);
  };
  server.on('connection', (socket: net.Socket) => {
    const timer = setTimeout(() => {
      deadlines.delete(socket);
      socket.destroy();
      const count = late.add(Date.now());
      if (count !== undefined)
        log(
          `hub: ${name}: closed ${plural(count, 'connection', 'connections')} that did not ${what} within ${options.deadlineMs / 1000} s (${late.total} so far)`,
        );
    }, options.deadlineMs);
    timer.unref();
    deadlines.set(socket, timer);
    socket.once('close', () => settle(socket));
  });
  if (options.settledBy === 'handshake') {
    server.on('secureConnection', (socket: tls.TLSSocket) => settle(tcpSocketOf(socket)));
  } else {
    // a WebSocket upgrade is a request too (its protocol's own deadlines follow)
    for (const event of ['request', 'upgrade'])
      server.on(event, (request: http.IncomingMessage) => settle(tcpSocketOf(request.socket)));
  }

  const failed = new ThrottledCount();
  server.on('error', (error: NodeJS.ErrnoException) => {
    // errors of listen() itself are the caller's to report
    if (error.syscall !== 'accept') return;
    const count = failed.add(Date.now());
    if (count !== undefined)
      log(
        `hub: ${name}: cannot accept connections: ${error.code ?? error.message} (${plural(count, 'time', 'times')}; ${failed.total} so far)`,
      );
  });
}
