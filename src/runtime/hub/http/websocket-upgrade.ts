import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';

import { WebSocketServer, createWebSocketStream } from 'ws';

import { WEBSOCKET_PATH, webSocketRoute, type WebSocketHead } from './websocket-route.js';

const pick = (protocols: Set<string>) => {
  const route = webSocketRoute(WEBSOCKET_PATH, [...protocols].join(','));
  return route.ok ? route.subprotocol : false;
};

/** Takes a connection that carries the head's protocol (as a TLS socket of its own listener would). */
export type StreamHandler = (stream: Duplex) => void;

export interface WebSocketUpgradeOptions {
  heads: Record<WebSocketHead, StreamHandler>;
  /** The largest WebSocket message taken; a larger one closes the connection (1009). */
  maxMessageBytes: number;
  log(line: string): void;
}

/**
 * MQTT and AMQP over WebSockets on the HTTPS listener, as IoT Hub and edgeHub serve them: an
 * upgrade at `/$iothub/websocket` with subprotocol `mqtt` or `AMQPWSB10` becomes a stream that the
 * head takes as it takes a TLS connection of its own port (same authentication, deadlines and
 * guards); the stream answers for the TLS connection's client certificate. Any other upgrade gets
 * a plain HTTP refusal and the socket is closed.
 */
export function webSocketUpgrades(options: WebSocketUpgradeOptions) {
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes,
    perMessageDeflate: false,
    // the subprotocol the route chose (ws would take the first one offered)
    handleProtocols: pick,
  });
  return (request: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => undefined);
    const route = webSocketRoute(request.url, request.headers['sec-websocket-protocol']);
    if (!route.ok) {
      options.log(`hub: HTTPS: WebSocket upgrade refused (${route.status}): ${route.reason}`);
      const text = `${route.reason}\n`;
      socket.end(
        `HTTP/1.1 ${route.status} ${route.status === 404 ? 'Not Found' : 'Bad Request'}\r\n` +
          `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
          `Connection: close\r\n\r\n${text}`,
      );
      return;
    }
    server.handleUpgrade(request, socket, head, (webSocket) => {
      const stream = createWebSocketStream(webSocket);
      stream.on('error', () => undefined);
      const tlsSocket = socket as tls.TLSSocket;
      // the client certificate of the TLS connection the WebSocket runs on
      Object.assign(stream, { getPeerCertificate: () => tlsSocket.getPeerCertificate() });
      options.heads[route.head](stream);
    });
  };
}
