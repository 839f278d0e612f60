/** The path IoT Hub and edgeHub serve MQTT and AMQP over WebSockets on. */
export const WEBSOCKET_PATH = '/$iothub/websocket';

/** The WebSocket subprotocols the hub speaks, and the head each goes to. */
const SUBPROTOCOLS = { mqtt: 'mqtt', AMQPWSB10: 'amqp' } as const;

export type WebSocketHead = (typeof SUBPROTOCOLS)[keyof typeof SUBPROTOCOLS];

export type WebSocketRoute =
  | { ok: true; subprotocol: keyof typeof SUBPROTOCOLS; head: WebSocketHead }
  | { ok: false; status: 400 | 404; reason: string };

/**
 * Where a WebSocket upgrade request goes: `/$iothub/websocket` with the subprotocol `mqtt` to the
 * MQTT head, with `AMQPWSB10` to the AMQP head; any other path is not found (404), and a request
 * that offers neither subprotocol is a bad request (400).
 */
export function webSocketRoute(url: string | undefined, protocolHeader: string | undefined): WebSocketRoute {
  let pathname: string;
  try {
    pathname = new URL(url ?? '/', 'https://localhost').pathname;
  } catch {
    return { ok: false, status: 400, reason: 'the request target is not a URL path' };
  }
  if (pathname !== WEBSOCKET_PATH && pathname.replace(/%24/gi, '$') !== WEBSOCKET_PATH)
    return {
      ok: false,
      status: 404,
      reason: `no WebSocket endpoint at ${JSON.stringify(pathname.slice(0, 200))}`,
    };
  const offered = (protocolHeader ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  const subprotocol = offered.find((name): name is keyof typeof SUBPROTOCOLS =>
    Object.hasOwn(SUBPROTOCOLS, name),
  );
  if (!subprotocol)
    return {
      ok: false,
      status: 400,
      reason: `subprotocol ${offered.length ? JSON.stringify(offered.join(', ').slice(0, 200)) : '(none)'} is not mqtt or AMQPWSB10`,
    };
  return { ok: true, subprotocol, head: SUBPROTOCOLS[subprotocol] };
}
