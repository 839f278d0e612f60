import type { IClientOptions, MqttClient } from 'mqtt';

import type { HubMessage } from '../../routing/message.js';
import { WEBSOCKET_PATH } from '../http/websocket-route.js';
import type { UpstreamAddress } from './upstream-address.js';

export interface UpstreamConnectionOptions {
  address: UpstreamAddress;
  /** CA certificates (PEM) the upstream's server certificate must chain to; the OS store when undefined. */
  ca?: string;
  clientId: string;
  username: string;
  password: string;
  /** MQTT keepalive: a link that stops answering is declared lost within about 1.5 times this. */
  keepaliveSeconds: number;
  connectTimeoutMs: number;
  /** MQTT over WebSockets (`/$iothub/websocket` on `address`'s port, the HTTPS port) instead of TLS. */
  webSocket?: boolean;
}

/** Why an upstream connection ended or could not start; `refused` when the CONNACK said no. */
export class UpstreamConnectionError extends Error {
  constructor(
    message: string,
    readonly refused: boolean,
  ) {
    super(message);
  }
}

/** One identity's connection as the link uses it (a fake one in tests). */
export interface UpstreamChannel {
  /** Resolves on CONNACK accepted; rejects with an UpstreamConnectionError. */
  readonly ready: Promise<void>;
  readonly closed: boolean;
  /** No publish waits for its acknowledgement. */
  readonly idle: boolean;
  /** ms since the epoch of the last publish. */
  readonly lastUsed: number;
  onClose(listener: (error: UpstreamConnectionError) => void): void;
  /** Resolves when the upstream acknowledged the message. */
  publish(topic: string, body: Buffer): Promise<void>;
  /** Sends a routed message as the channel's identity, when the channel has a way of its own. */
  send?(message: HubMessage): Promise<void>;
  /** Resolves once the upstream granted every filter (QoS 1); rejects when it refused one. */
  subscribe(filters: string[]): Promise<void>;
  /** Every PUBLISH the upstream sends this connection. */
  onMessage(listener: (topic: string, payload: Buffer) => void): void;
  close(reason?: string): void;
}

/** MQTT CONNACK return codes that say the credentials or the identity were refused. */
const REFUSED_CODES = new Set([4, 5]);

/**
 * One MQTT connection to the upstream as one identity: TLS verified against `ca`, clean session,
 * QoS 1 publishes, no reconnection of its own (the link decides when to try again). Every publish
 * still waiting when the connection ends is rejected. The MQTT client library (some 7 MiB of
 * memory) is loaded with the first connection, so a daemon with no upstream to talk to never pays it.
 */
export class UpstreamConnection implements UpstreamChannel {
  private client: MqttClient | undefined;
  readonly ready: Promise<void>;
  private ended: UpstreamConnectionError | undefined;
  private readonly closeListeners: ((error: UpstreamConnectionError) => void)[] = [];
  private readonly pending = new Set<(error: Error) => void>();
  private readonly messageListeners: ((topic: string, payload: Buffer) => void)[] = [];
  /** ms since the epoch of the last publish, for idle closing. */
  lastUsed = Date.now();

  constructor(options: UpstreamConnectionOptions) {
    this.ready = this.connect(options);
    // a refusal before anyone waits is reported through onClose, not as an unhandled rejection
    this.ready.catch(() => undefined);
  }

  private async connect(options: UpstreamConnectionOptions): Promise<void> {
    const { default: mqtt } = await import('mqtt');
    if (this.ended) throw this.ended;
    const clientOptions: IClientOptions = {
      protocol: options.webSocket ? 'wss' : 'mqtts',
      ...(options.webSocket ? { path: WEBSOCKET_PATH, hostname: options.address.host } : {}),
      host: options.address.host,
      port: options.address.port,
      clientId: options.clientId,
      username: options.username,
      password: options.password,
      protocolVersion: 4,
      clean: true,
      keepalive: options.keepaliveSeconds,
      reconnectPeriod: 0,
      connectTimeout: options.connectTimeoutMs,
      rejectUnauthorized: true,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    };
    const client = mqtt.connect(clientOptions);
    this.client = client;
    client.on('message', (topic: string, payload: Buffer) => {
      for (const listener of this.messageListeners) listener(topic, payload);
    });
    let firstError: Error | undefined;
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.on('error', (error: Error & { code?: unknown }) => {
        firstError ??= error;
        const refused = typeof error.code === 'number' && REFUSED_CODES.has(error.code);
        this.end(new UpstreamConnectionError(describe(error), refused));
        reject(this.ended);
      });
      client.on('close', () => {
        const error =
          this.ended ??
          new UpstreamConnectionError(firstError ? describe(firstError) : 'connection closed', false);
        this.end(error);
        reject(error);
      });
    });
  }

  /** No publish waits for its acknowledgement. */
  get idle(): boolean {
    return this.pending.size === 0;
  }

  get closed(): boolean {
    return this.ended !== undefined;
  }

  onClose(listener: (error: UpstreamConnectionError) => void): void {
    if (this.ended) listener(this.ended);
    else this.closeListeners.push(listener);
  }

  /** Resolves when the upstream acknowledged the message (PUBACK). */
  async publish(topic: string, body: Buffer): Promise<void> {
    await this.ready;
    this.lastUsed = Date.now();
    if (this.ended) throw this.ended;
    const client = this.client;
    if (!client) throw new UpstreamConnectionError('not connected', false);
    await new Promise<void>((resolve, reject) => {
      this.pending.add(reject);
      client.publish(topic, body, { qos: 1 }, (error) => {
        this.pending.delete(reject);
        if (error) reject(this.ended ?? new UpstreamConnectionError(describe(error), false));
        else resolve();
      });
    });
  }

  async subscribe(filters: string[]): Promise<void> {
    await this.ready;
    if (this.ended) throw this.ended;
    const client = this.client;
    if (!client) throw new UpstreamConnectionError('not connected', false);
    await new Promise<void>((resolve, reject) => {
      this.pending.add(reject);
      client.subscribe(filters, { qos: 1 }, (error, granted) => {
        this.pending.delete(reject);
        const refused = (granted ?? []).find((grant) => grant.qos === 128);
        if (error) reject(this.ended ?? new UpstreamConnectionError(describe(error), false));
        else if (refused)
          reject(new UpstreamConnectionError(`subscription to ${refused.topic} refused`, false));
        else resolve();
      });
    });
  }

  onMessage(listener: (topic: string, payload: Buffer) => void): void {
    this.messageListeners.push(listener);
  }

  close(reason = 'closed by the hub'): void {
    this.end(new UpstreamConnectionError(reason, false));
  }

  private end(error: UpstreamConnectionError): void {
    if (this.ended) return;
    this.ended = error;
    this.client?.end(true);
    for (const reject of this.pending) reject(error);
    this.pending.clear();
    for (const listener of this.closeListeners.splice(0)) listener(error);
  }
}

/** An error's message without stack; MQTT's refusals and socket errors are safe to show. */
function describe(error: Error & { code?: unknown }): string {
  const code = typeof error.code === 'string' ? ` (${error.code})` : '';
  return `${error.message}${code && !error.message.includes(String(error.code)) ? code : ''}`;
}
