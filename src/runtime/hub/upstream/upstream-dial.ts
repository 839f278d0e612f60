import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

import { WEBSOCKET_PATH } from '../http/websocket-route.js';
import { formatAddress } from './upstream-address.js';
import { UpstreamConnectionError } from './upstream-connection.js';

export interface DialOptions {
  host: string;
  port: number;
  /** CA certificates (PEM) the server certificate must chain to; the OS store when undefined. */
  ca?: string;
  timeoutMs: number;
}

const tlsOptions = (options: DialOptions): tls.ConnectionOptions => ({
  host: options.host,
  port: options.port,
  ...(isIP(options.host) === 0 ? { servername: options.host } : {}),
  ...(options.ca === undefined ? {} : { ca: options.ca }),
  rejectUnauthorized: true,
});

/** Why a dial failed, without stack: the socket error's code, or its message. */
function dialError(where: string, error: Error & { code?: string }): UpstreamConnectionError {
  return new UpstreamConnectionError(`${where}: ${error.code ?? error.message}`, false);
}

/** A TLS connection to the upstream, its certificate verified; rejects after `timeoutMs`. */
export function dialTls(options: DialOptions): Promise<Duplex> {
  const where = formatAddress(options);
  return new Promise((resolve, reject) => {
    const socket = tls.connect(tlsOptions(options));
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new UpstreamConnectionError(`${where}: no TLS handshake within ${options.timeoutMs} ms`, false));
    }, options.timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(dialError(where, error));
    });
  });
}

/**
 * A WebSocket to the upstream's `/$iothub/websocket` over TLS offering `subprotocol`, as a byte
 * stream; rejects when the upgrade is refused or does not complete within `timeoutMs`.
 */
export async function dialWebSocket(options: DialOptions & { subprotocol: string }): Promise<Duplex> {
  const { WebSocket, createWebSocketStream } = await import('ws');
  const where = formatAddress(options);
  const url = `wss://${where}${WEBSOCKET_PATH}`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, [options.subprotocol], {
      ...tlsOptions(options),
      handshakeTimeout: options.timeoutMs,
      perMessageDeflate: false,
    });
    const fail = (error: Error) => {
      socket.terminate();
      reject(dialError(`${where} (WebSocket)`, error));
    };
    socket.once('error', fail);
    socket.once('unexpected-response', (_request, response) =>
      fail(new Error(`upgrade refused with HTTP ${response.statusCode ?? '?'}`)),
    );
    socket.once('open', () => {
      socket.off('error', fail);
      const stream = createWebSocketStream(socket);
      stream.on('error', () => undefined);
      resolve(stream);
    });
  });
}
