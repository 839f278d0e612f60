import net from 'node:net';

/**
 * The protocol name a client connected with, as the SDKs name their transports: a connection to a
 * head's own port (a socket) gives `MQTT` or `AMQP`; the same head reached through a WebSocket of
 * the HTTPS listener (a stream over the WebSocket, no socket) gives `MQTT-WS` or `AMQP-WS`.
 */
export function clientProtocol(base: 'MQTT' | 'AMQP', connection: unknown): string {
  return connection === undefined || connection instanceof net.Socket ? base : `${base}-WS`;
}
