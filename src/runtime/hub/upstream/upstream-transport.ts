/**
 * How the upstream link reaches its upstream for each edgeHub `UpstreamProtocol`, as IoT Edge does:
 * `Mqtt` on the MQTT port (8883), `MqttWs` and `AmqpWs` as WebSockets on the HTTPS port (443, path
 * `/$iothub/websocket`), `Amqp` on the AMQP port (5671) and, when that cannot be reached, AMQP over
 * WebSockets on the HTTPS port. No `UpstreamProtocol` keeps MQTT. Pure.
 */
import type { UpstreamProtocol } from '../../deployment/upstream-protocol.js';

export const AMQP_TLS_PORT = 5671;
export const HTTPS_PORT = 443;

export type TransportKind = 'mqtt' | 'mqtt-ws' | 'amqp' | 'amqp-ws';

/** One way to reach the upstream: a wire protocol on a port of its host. */
export interface TransportEndpoint {
  kind: TransportKind;
  port: number;
}

/** The upstream's ports (its MQTT port from `parent_hostname`; the others the defaults unless set). */
export interface UpstreamPorts {
  mqtt: number;
  amqp: number;
  https: number;
}

/** The endpoints to try, in order, for `protocol`. */
export function transportPlan(
  protocol: UpstreamProtocol | undefined,
  ports: UpstreamPorts,
): TransportEndpoint[] {
  switch (protocol) {
    case 'Amqp':
      return [
        { kind: 'amqp', port: ports.amqp },
        { kind: 'amqp-ws', port: ports.https },
      ];
    case 'AmqpWs':
      return [{ kind: 'amqp-ws', port: ports.https }];
    case 'MqttWs':
      return [{ kind: 'mqtt-ws', port: ports.https }];
    default:
      return [{ kind: 'mqtt', port: ports.mqtt }];
  }
}

/** Whether the endpoints speak AMQP (one connection for every identity) rather than MQTT. */
export const isAmqp = (plan: readonly TransportEndpoint[]): boolean =>
  plan.length > 0 && plan[0]!.kind.startsWith('amqp');

/** How `iotedge system status` names a transport. */
export function transportName(
  kind: TransportKind,
): 'MQTT' | 'MQTT over WebSocket' | 'AMQP' | 'AMQP over WebSocket' {
  switch (kind) {
    case 'mqtt':
      return 'MQTT';
    case 'mqtt-ws':
      return 'MQTT over WebSocket';
    case 'amqp':
      return 'AMQP';
    case 'amqp-ws':
      return 'AMQP over WebSocket';
  }
}

/** A port from an environment variable: an integer in 1..65535, else `fallback`. */
export function portOr(text: string | undefined, fallback: number): number {
  const port = Number(text);
  return text !== undefined && text.trim() !== '' && Number.isInteger(port) && port > 0 && port <= 65_535
    ? port
    : fallback;
}
