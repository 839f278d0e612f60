import type tls from 'node:tls';

import type { HubBindings } from '../deployment/listen-ports.js';

/**
 * A protocol the hub speaks to its clients (MQTT, AMQP, the HTTPS method API; WebSockets later).
 * A head holds no hub logic: it turns its protocol into calls on the hub's sessions and back. The
 * daemon gives each head a TLS listener on the port the deployment binds for it.
 */
export interface ProtocolHead {
  /** Names the head in logs and in the hub's status ("MQTT on 127.0.0.1:8883"). */
  readonly name: string;
  /** Which of edgeHub's port bindings it listens on. */
  readonly binding: Exclude<keyof HubBindings, 'metrics'>;
  /** A TLS server that serves this head's protocol to the connections it accepts. */
  server(options: tls.TlsOptions): tls.Server;
  /** Ends the head's client connections and what it holds. */
  close(): Promise<void>;
}
