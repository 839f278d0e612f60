import type { Duplex } from 'node:stream';
import tls from 'node:tls';

import type { EdgeHub } from '../hub.js';
import type { ProtocolHead } from '../protocol-head.js';
import { AmqpConnection } from './connection.js';

export interface AmqpHeadOptions {
  hub: EdgeHub;
  /** How long a connection has, once its TLS handshake is done, to authenticate (edgeHub's 60 s). */
  connectTimeoutMs?: number;
  log(line: string): void;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 60_000;

/**
 * The AMQP head: AMQP 1.0 over TLS (port 5671), as IoT Hub's devices and modules speak it, each
 * connection driven by rhea and translated into calls on the hub's sessions.
 */
export class AmqpHead implements ProtocolHead {
  readonly name = 'AMQP';
  readonly binding = 'amqp';
  private readonly connections = new Set<AmqpConnection>();

  constructor(private readonly options: AmqpHeadOptions) {}

  server(options: tls.TlsOptions): tls.Server {
    return tls.createServer(options, (socket) => this.handle(socket));
  }

  /** Serves AMQP on a connection: a TLS socket of this head's port, or a WebSocket's stream. */
  handle = (socket: Duplex): void => {
    const connection = new AmqpConnection(
      socket,
      {
        hub: this.options.hub,
        connectTimeoutMs: this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        log: this.options.log,
      },
      (ended) => this.connections.delete(ended),
    );
    this.connections.add(connection);
  };

  close(): Promise<void> {
    for (const connection of [...this.connections]) connection.close();
    return Promise.resolve();
  }
}
