import type { Duplex } from 'node:stream';

import type { Connection, EventContext, Receiver, Sender } from 'rhea';

import { formatAddress } from './upstream-address.js';
import { UpstreamConnectionError } from './upstream-connection.js';
import { dialTls, dialWebSocket } from './upstream-dial.js';
import type { TransportEndpoint } from './upstream-transport.js';

/** The WebSocket subprotocol of AMQP 1.0. */
const AMQP_WS_SUBPROTOCOL = 'AMQPWSB10';
/** How long the upstream has to answer a put-token. */
const CBS_TIMEOUT_MS = 30_000;

export interface AmqpUpstreamOptions {
  host: string;
  /** Tried in order until one connects (AMQP on 5671, then AMQP over WebSockets). */
  endpoints: TransportEndpoint[];
  ca?: string;
  connectTimeoutMs: number;
  /** AMQP idle time-out: the upstream sends a frame at least every half of it; none for twice it ends the connection. */
  idleTimeoutMs: number;
  log(line: string): void;
}

interface CbsWaiter {
  resolve(): void;
  reject(error: UpstreamConnectionError): void;
  timer: NodeJS.Timeout;
}

/**
 * The one AMQP connection the upstream link multiplexes every identity on (rhea over TLS, or over a
 * WebSocket when AMQP's port cannot be reached): SASL ANONYMOUS, then put-tokens to `$cbs`, one per
 * identity, and each identity's links in one session. No reconnection of its own: when it ends,
 * every identity on it ends with it and the link decides when to try again.
 */
export class AmqpUpstreamConnection {
  readonly ready: Promise<void>;
  private connection: Connection | undefined;
  private cbsSender: Sender | undefined;
  private ended: UpstreamConnectionError | undefined;
  private readonly closeListeners: ((error: UpstreamConnectionError) => void)[] = [];
  private readonly cbsWaiters = new Map<string, CbsWaiter>();
  private counter = 0;
  /** The endpoint the connection was made on, once made. */
  endpoint: TransportEndpoint | undefined;

  constructor(private readonly options: AmqpUpstreamOptions) {
    this.ready = this.connect();
    this.ready.catch(() => undefined);
  }

  get closed(): boolean {
    return this.ended !== undefined;
  }

  /** Calls `listener` when the connection ends (at once if it has); returns what stops listening. */
  onClose(listener: (error: UpstreamConnectionError) => void): () => void {
    if (this.ended) {
      listener(this.ended);
      return () => undefined;
    }
    this.closeListeners.push(listener);
    return () => {
      const index = this.closeListeners.indexOf(listener);
      if (index !== -1) this.closeListeners.splice(index, 1);
    };
  }

  private async dial(): Promise<Duplex> {
    const { options } = this;
    const failures: string[] = [];
    let last: UpstreamConnectionError | undefined;
    for (const endpoint of options.endpoints) {
      const dial = { host: options.host, port: endpoint.port, timeoutMs: options.connectTimeoutMs };
      const withCa = options.ca === undefined ? dial : { ...dial, ca: options.ca };
      try {
        const socket =
          endpoint.kind === 'amqp-ws'
            ? await dialWebSocket({ ...withCa, subprotocol: AMQP_WS_SUBPROTOCOL })
            : await dialTls(withCa);
        if (last !== undefined)
          options.log(`hub: upstream: ${last.message}; AMQP over WebSocket on port ${endpoint.port} instead`);
        this.endpoint = endpoint;
        return socket;
      } catch (error) {
        last =
          error instanceof UpstreamConnectionError
            ? error
            : new UpstreamConnectionError(String(error), false);
        failures.push(last.message);
      }
      if (this.ended) throw this.ended;
    }
    throw new UpstreamConnectionError(failures.join('; ') || 'no endpoint to connect to', false);
  }

  private async connect(): Promise<void> {
    const socket = await this.dial();
    if (this.ended) {
      socket.destroy();
      throw this.ended;
    }
    const { default: rhea } = await import('rhea');
    const container = rhea.create_container();
    container.on('error', () => undefined);
    const connection = container.connect({
      host: this.options.host,
      hostname: this.options.host,
      reconnect: false,
      idle_time_out: this.options.idleTimeoutMs,
      connection_details: () => ({
        connect: (_port: number, _host: string, _options: unknown, callback: () => void) => {
          setImmediate(callback);
          return socket;
        },
      }),
    } as never);
    this.connection = connection;
    connection.on('disconnected', (context: EventContext) => {
      const error = (context as { error?: Error & { code?: string } }).error;
      this.end(
        new UpstreamConnectionError(
          `${this.where()}: ${error ? (error.code ?? error.message) : 'connection closed'}`,
          false,
        ),
      );
    });
    connection.on('connection_close', (context: EventContext) => {
      const error = context.connection.error as { description?: string } | undefined;
      this.end(
        new UpstreamConnectionError(
          `${this.where()} closed the connection: ${error?.description ?? 'no reason'}`,
          false,
        ),
      );
    });
    connection.on('connection_error', () => undefined);
    connection.on('session_error', () => undefined);
    connection.on('sender_error', () => undefined);
    connection.on('receiver_error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      connection.once('connection_open', () => resolve());
      this.onClose(reject);
    });
    const replies = connection.open_receiver({ source: { address: '$cbs' }, credit_window: 64 } as never);
    replies.on('message', (context: EventContext) => this.cbsReply(context));
    this.cbsSender = connection.open_sender({ target: { address: '$cbs' } } as never);
    await Promise.all([opened(replies, this), opened(this.cbsSender, this)]);
  }

  private where(): string {
    const endpoint = this.endpoint ?? this.options.endpoints[0];
    return formatAddress({ host: this.options.host, port: endpoint?.port ?? 0 });
  }

  /**
   * Puts a token to `$cbs` (properties as IoT Hub's put-token takes them); resolves on status 200,
   * rejects with a refusal (401, 403) or another failure.
   */
  async putToken(properties: Record<string, string>, token: string): Promise<void> {
    await this.ready;
    const sender = this.cbsSender;
    if (this.ended) throw this.ended;
    if (!sender) throw new UpstreamConnectionError('not connected', false);
    const id = `cbs-${++this.counter}`;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.cbsWaiters.delete(id);
        reject(new UpstreamConnectionError(`${this.where()} did not answer a put-token in time`, false));
      }, CBS_TIMEOUT_MS);
      this.cbsWaiters.set(id, { resolve, reject, timer });
      sender.send({
        message_id: id,
        to: '$cbs',
        reply_to: 'cbs',
        application_properties: properties,
        body: token,
      } as never);
    });
  }

  private cbsReply(context: EventContext): void {
    const message = context.message!;
    const id = String(message.correlation_id);
    const waiter = this.cbsWaiters.get(id);
    if (!waiter) return;
    this.cbsWaiters.delete(id);
    clearTimeout(waiter.timer);
    const status = Number(message.application_properties?.['status-code']);
    if (status === 200) return waiter.resolve();
    const description = String(message.application_properties?.['status-description'] ?? '');
    waiter.reject(
      new UpstreamConnectionError(
        `put-token refused with ${status}${description ? `: ${description.slice(0, 300)}` : ''}`,
        status === 401 || status === 403 || status === 404,
      ),
    );
  }

  /** A link the hub sends on (rhea settles on the upstream's disposition). */
  openSender(address: string, properties?: Record<string, string>): Sender {
    const connection = this.live();
    return connection.open_sender({
      target: { address },
      autosettle: true,
      ...(properties ? { properties } : {}),
    } as never);
  }

  /** A link the hub receives on; messages accepted as they arrive. */
  openReceiver(address: string, properties?: Record<string, string>): Receiver {
    const connection = this.live();
    return connection.open_receiver({
      source: { address },
      autoaccept: true,
      credit_window: 64,
      ...(properties ? { properties } : {}),
    } as never);
  }

  private live(): Connection {
    if (this.ended) throw this.ended;
    if (!this.connection) throw new UpstreamConnectionError('not connected', false);
    return this.connection;
  }

  close(reason = 'closed by the hub'): void {
    const connection = this.connection;
    this.end(new UpstreamConnectionError(reason, false));
    if (connection?.is_open()) connection.close();
    setTimeout(() => connection?.socket?.destroy(), 1000).unref();
  }

  private end(error: UpstreamConnectionError): void {
    if (this.ended) return;
    this.ended = error;
    for (const waiter of this.cbsWaiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.cbsWaiters.clear();
    if (this.connection && !this.connection.is_open()) this.connection.socket?.destroy();
    for (const listener of this.closeListeners.splice(0)) listener(error);
  }
}

/** Resolves once the upstream attached `link`; rejects when it refused it or the connection ended. */
export function opened(link: Sender | Receiver, connection: AmqpUpstreamConnection): Promise<void> {
  return new Promise((resolve, reject) => {
    const openEvent = link.is_sender() ? 'sender_open' : 'receiver_open';
    const closeEvent = link.is_sender() ? 'sender_close' : 'receiver_close';
    const done = () => {
      link.off(openEvent, onOpen);
      link.off(closeEvent, onClose);
      stopWatching();
    };
    const onOpen = () => {
      done();
      resolve();
    };
    const onClose = () => {
      done();
      const error = link.error as { description?: string } | undefined;
      reject(
        new UpstreamConnectionError(
          `link ${describeAddress(link)} refused: ${error?.description ?? 'closed'}`,
          false,
        ),
      );
    };
    link.on(openEvent, onOpen);
    link.on(closeEvent, onClose);
    const stopWatching = connection.onClose((error) => {
      done();
      reject(error);
    });
  });
}

function describeAddress(link: Sender | Receiver): string {
  const attach = (
    link as unknown as {
      local: { attach?: { source?: { address?: unknown }; target?: { address?: unknown } } };
    }
  ).local.attach;
  return String((link.is_sender() ? attach?.target?.address : attach?.source?.address) ?? '?');
}
