import { EDGE_HUB_MODULE_ID } from '../auth-chain.js';
import type { DeliveryTarget } from '../endpoints/delivery-loop.js';
import type { HubMessage } from '../../routing/message.js';
import { buildSasToken } from '../../identity/sas.js';
import type { UpstreamProtocol } from '../../deployment/upstream-protocol.js';
import { reconnectDelayMs } from './backoff.js';
import { formatAddress, type UpstreamAddress } from './upstream-address.js';
import type { ManagedChannel } from './managed-channel.js';
import { AmqpIdentityChannel } from './amqp-identity-channel.js';
import { AmqpUpstreamConnection } from './amqp-upstream-connection.js';
import {
  AMQP_TLS_PORT,
  HTTPS_PORT,
  isAmqp,
  transportName,
  transportPlan,
  type TransportEndpoint,
} from './upstream-transport.js';
import {
  UpstreamConnection,
  UpstreamConnectionError,
  type UpstreamChannel,
  type UpstreamConnectionOptions,
} from './upstream-connection.js';
import {
  edgeHubAudience,
  identityId,
  messageOrigin,
  upstreamTopic,
  upstreamUsername,
  type UpstreamIdentity,
} from './upstream-wire.js';

/** What `$upstream` does with a link: attach it while it is up, detach it when it goes down. */
export interface UpstreamEndpointPort {
  attach(target: DeliveryTarget): void;
  detach(): void;
  /** Messages held (a link that connects on demand waits for the first). */
  readonly pending: number;
}

export interface UpstreamLinkOptions {
  address: UpstreamAddress;
  /** CA certificates (PEM) for the upstream's server certificate; the OS store when undefined. */
  ca?: string;
  iothubHostname: string;
  edgeDeviceId: string;
  /** The base64 key of this device's `$edgeHub` module identity; undefined when it has none. */
  edgeHubKey?: string;
  productInfo: string;
  endpoint: UpstreamEndpointPort;
  log(line: string): void;
  /** MQTT keepalive of every upstream connection (default 5 s: a dead parent is noticed in seconds). */
  keepaliveSeconds?: number;
  /** An identity's connection closes after this long without a message (default 5 minutes). */
  idleMs?: number;
  /** Lifetime of the SAS tokens presented (default 1 hour; a connection whose token expires reconnects). */
  tokenSeconds?: number;
  random?: () => number;
  now?: () => Date;
  /**
   * Connect at once (a parent edge device), or only once a message waits to go up: IoT Hub, which
   * a device without `$upstream` routes never needs (and then never loads the MQTT client for).
   */
  onDemand?: boolean;
  /** How MQTT connections are made (tests pass a fake). */
  connect?: (options: UpstreamConnectionOptions) => UpstreamChannel;
  /** The upstream's AMQP and HTTPS ports (5671 and 443 unless set); its MQTT port is the address's. */
  amqpPort?: number;
  httpsPort?: number;
  /** The upstream refused this device's own identity (credentials or identity unknown there). */
  onSelfRefused?(reason: string): void;
  /**
   * The upstream refused an identity this device connects on behalf of (`device` or
   * `device/module`): not, or no longer, in this device's scope there.
   */
  onIdentityRefused?(identityId: string): void;
}

/** The link's state as `iotedge system status` shows it. */
export interface UpstreamStatus {
  /** `host:port` of the upstream. */
  target: string;
  kind: 'parent' | 'iothub';
  /** The transport in use (or tried first, while offline). */
  protocol: ReturnType<typeof transportName>;
  /** The deployment's `UpstreamProtocol`, when it names one. */
  requestedProtocol?: UpstreamProtocol;
  connected: boolean;
  /** When the link came up (connected) or went down / never came up (offline). */
  since: string;
  lastError?: string;
  /** Identities with an open upstream connection (the hub's own included); over AMQP, all on one. */
  connections: number;
  /** Messages dropped because the upstream refused their identity. */
  refused: number;
}

const DEFAULTS = { keepaliveSeconds: 5, idleMs: 5 * 60_000, tokenSeconds: 3600 };
/** How long a refused identity's messages are dropped without a new CONNECT. */
const REFUSAL_MEMORY_MS = 10_000;
/**
 * Messages in flight to a parent edge device. Its hub acknowledges each only once its own durable
 * store holds it, so the messages in flight are what each of its commits can group: a parent
 * routing them to a module drained a median 13,500 msg/s with 64 in flight, 20,000 with 256; a
 * parent that drops them (no store) 24,600 and 22,300 (two cores, bench/store-forward.js). IoT Hub
 * keeps the `$upstream` endpoint's window.
 */
const PARENT_WINDOW = 256;
/** How often a link on demand looks for a waiting message. */
const DEMAND_POLL_MS = 1_000;
/** How long after its connection ended on its own (the link still up) a managed identity connects again. */
const MANAGED_RETRY_MS = 2_000;
/** The same when the upstream refused the identity (not in this device's scope there). */
const MANAGED_REFUSED_RETRY_MS = 60_000;

/**
 * The Edge Hub's link to its upstream (a parent edge device or IoT Hub). Over MQTT the hub's own
 * identity (`{device}/$edgeHub`) keeps one connection that stands for the link; while it is up the
 * `$upstream` endpoint is attached and its messages go up, each on a connection of its own origin
 * (created on demand, closed when idle) authenticated on behalf of that origin with the hub's token.
 * Any loss (keepalive, a failed publish) detaches the endpoint, which keeps the messages; the link
 * then tries again with jittered exponential backoff, for ever. A message whose origin the upstream
 * refuses (not in this device's scope there, or unknown to IoT Hub) cannot ever be delivered: it is
 * dropped, counted and logged, as IoT Edge drops invalid messages, so that it does not hold back
 * the messages behind it. Over AMQP (edgeHub `UpstreamProtocol` `Amqp` or `AmqpWs`) the same
 * identities are channels of ONE connection, each authenticated by a put-token of its own.
 */
export class UpstreamLink implements DeliveryTarget {
  private main: UpstreamChannel | undefined;
  private readonly connections = new Map<string, UpstreamChannel>();
  /** Identities that keep a connection while the link is up, to hear from upstream; by identity id. */
  private readonly managed = new Map<string, ManagedChannel>();
  /** The connection each managed channel was last attached to (attached once per connection). */
  private readonly attachedTo = new WeakMap<ManagedChannel, UpstreamChannel>();
  private connected = false;
  private since: Date;
  private lastError: string | undefined;
  private requestedProtocol: UpstreamProtocol | undefined;
  /** The endpoints tried in order for the requested protocol. */
  private plan: TransportEndpoint[];
  /** The AMQP connection every identity shares, while the link speaks AMQP. */
  private amqp: AmqpUpstreamConnection | undefined;
  private started = false;
  private failures = 0;
  private refused = 0;
  /** When the upstream last refused an identity (ms since the epoch), by identity id. */
  private readonly refusals = new Map<string, number>();
  private retryTimer: NodeJS.Timeout | undefined;
  private demandTimer: NodeJS.Timeout | undefined;
  private readonly idleTimer: NodeJS.Timeout;
  private stopped = false;
  private readonly now: () => Date;
  private readonly self: UpstreamIdentity;
  /** Messages in flight at once (the endpoint's own window when undefined: IoT Hub). */
  readonly window: number | undefined;

  constructor(private readonly options: UpstreamLinkOptions) {
    this.window = options.address.kind === 'parent' ? PARENT_WINDOW : undefined;
    this.now = options.now ?? (() => new Date());
    this.since = this.now();
    this.self = { deviceId: options.edgeDeviceId, moduleId: EDGE_HUB_MODULE_ID };
    this.plan = this.planFor(undefined);
    const idleMs = options.idleMs ?? DEFAULTS.idleMs;
    this.idleTimer = setInterval(() => this.closeIdle(idleMs), Math.max(1_000, idleMs / 2));
    this.idleTimer.unref();
  }

  /** Starts connecting (and keeps trying until stop); on demand, once a message waits. */
  start(): void {
    this.started = true;
    if (!this.options.onDemand || this.options.endpoint.pending > 0) {
      this.connectMain();
      return;
    }
    this.lastError = 'not tried yet: no message waits to go up';
    this.demandTimer = setInterval(() => {
      if (this.options.endpoint.pending === 0) return;
      clearInterval(this.demandTimer);
      this.demandTimer = undefined;
      this.connectMain();
    }, DEMAND_POLL_MS);
    this.demandTimer.unref();
  }

  private planFor(protocol: UpstreamProtocol | undefined): TransportEndpoint[] {
    const { options } = this;
    return transportPlan(protocol, {
      mqtt: options.address.port,
      amqp: options.amqpPort ?? AMQP_TLS_PORT,
      https: options.httpsPort ?? HTTPS_PORT,
    });
  }

  /**
   * The deployment's edgeHub `UpstreamProtocol` (none: MQTT). A change closes the link's connections
   * and connects again at once with the new protocol; the messages held wait for it.
   */
  requestProtocol(protocol: UpstreamProtocol | undefined): void {
    if (protocol === this.requestedProtocol) return;
    this.requestedProtocol = protocol;
    this.plan = this.planFor(protocol);
    this.options.log(
      `hub: upstream: UpstreamProtocol ${protocol ?? 'not set'}: the link speaks ${transportName(this.plan[0]!.kind)}`,
    );
    if (!this.started || this.stopped || (this.main === undefined && this.retryTimer === undefined)) return;
    this.connected = false;
    this.options.endpoint.detach();
    this.closeAll('the upstream protocol changed');
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.failures = 0;
    this.connectMain();
  }

  /** `host:port` of the transport in use. */
  private where(): string {
    return formatAddress({ host: this.options.address.host, port: this.transport().port });
  }

  /** The transport in use: where the AMQP connection went (maybe its WebSocket fallback), else the first tried. */
  private transport(): TransportEndpoint {
    return this.amqp?.endpoint ?? this.plan[0]!;
  }

  /** Whether the link is connected upstream now. */
  get online(): boolean {
    return this.connected;
  }

  status(): UpstreamStatus {
    const transport = this.transport();
    return {
      target: this.where(),
      kind: this.options.address.kind,
      protocol: transportName(transport.kind),
      ...(this.requestedProtocol === undefined ? {} : { requestedProtocol: this.requestedProtocol }),
      connected: this.connected,
      since: this.since.toISOString(),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      connections: this.connections.size + (this.connected ? 1 : 0),
      refused: this.refused,
    };
  }

  deliver(message: HubMessage): Promise<void> {
    return this.deliverOnce(message, true);
  }

  private async deliverOnce(message: HubMessage, mayRetry: boolean): Promise<void> {
    const origin = messageOrigin(message, this.options.edgeDeviceId);
    const id = identityId(origin);
    const refusedAt = this.refusals.get(id);
    if (refusedAt !== undefined && Date.now() - refusedAt < REFUSAL_MEMORY_MS) {
      // refused moments ago: dropped without asking again, so a stream of them is not a CONNECT each
      this.refused += 1;
      return;
    }
    this.refusals.delete(id);
    const connection = this.connectionFor(origin);
    try {
      await (connection.send
        ? connection.send(message)
        : connection.publish(upstreamTopic(origin, message), message.body));
    } catch (error) {
      const failure = asConnectionError(error);
      if (failure.refused && connection !== this.main) {
        this.refused += 1;
        this.refusals.set(id, Date.now());
        this.options.log(
          `hub: upstream: ${this.where()} refused ${id} (${failure.message}); its messages are dropped (asked again after ${REFUSAL_MEMORY_MS / 1000} s)`,
        );
        this.options.onIdentityRefused?.(id);
        return;
      }
      if (mayRetry && connection !== this.main && connection.closed && this.connected && !this.stopped) {
        // that identity's own connection ended under it while the link is up (a parent closes the
        // connection of an identity it removed): once more, on a new connection, which is refused
        // if the identity is gone, rather than taking the whole link down
        return this.deliverOnce(message, false);
      }
      this.lost(failure);
      throw failure;
    }
  }

  /**
   * Keeps `channel`'s identity connected while the link is up (its connection is attached to it on
   * every connection of the link); the hub's own identity uses the link's main connection.
   */
  manage(channel: ManagedChannel): void {
    if (this.managed.get(channel.id) === channel) return;
    this.managed.set(channel.id, channel);
    if (this.connected) this.attachManaged(channel);
  }

  /** `channel` no longer needs to hear from upstream: its connection closes (unless it is the hub's own). */
  release(channel: ManagedChannel): void {
    if (this.managed.get(channel.id) !== channel) return;
    this.managed.delete(channel.id);
    channel.detach('released');
    if (channel.id === identityId(this.self)) return;
    const connection = this.connections.get(channel.id);
    if (connection?.idle) {
      this.connections.delete(channel.id);
      connection.close('no longer needed');
    }
  }

  private attachManaged(channel: ManagedChannel): void {
    if (this.stopped || !this.connected || this.managed.get(channel.id) !== channel) return;
    let connection: UpstreamChannel;
    try {
      connection = this.connectionFor(channel.identity);
    } catch (error) {
      this.options.log(`hub: upstream: ${channel.id}: ${(error as Error).message}`);
      return;
    }
    // the link coming up and a retry after a lone connection closed may both ask: once is enough
    if (this.attachedTo.get(channel) === connection && !connection.closed) return;
    this.attachedTo.set(channel, connection);
    if (connection !== this.main)
      connection.onClose((error) => {
        if (this.managed.get(channel.id) !== channel || !this.connected || this.stopped) return;
        if (error.refused) this.options.onIdentityRefused?.(channel.id);
        const delay = error.refused ? MANAGED_REFUSED_RETRY_MS : MANAGED_RETRY_MS;
        setTimeout(() => this.attachManaged(channel), delay).unref();
      });
    channel.attach(connection).catch((error: Error) => {
      this.options.log(`hub: upstream: ${channel.id} cannot hear from upstream: ${error.message}`);
      if (connection !== this.main && this.attachedTo.get(channel) === connection)
        connection.close(error.message);
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.demandTimer);
    clearInterval(this.idleTimer);
    this.options.endpoint.detach();
    this.closeAll('the hub is closing');
  }

  private connectionFor(origin: UpstreamIdentity): UpstreamChannel {
    const id = identityId(origin);
    if (id === identityId(this.self) && this.main) return this.main;
    let connection = this.connections.get(id);
    if (connection && !connection.closed) return connection;
    connection = this.open(origin);
    this.connections.set(id, connection);
    const opened = connection;
    connection.onClose(() => {
      if (this.connections.get(id) === opened) this.connections.delete(id);
    });
    return connection;
  }

  /** A fresh `$edgeHub` token, which every identity presents (the hub's own, or on behalf of one). */
  private token(): { token: string; expiry: number } {
    const { options } = this;
    const key = options.edgeHubKey;
    if (key === undefined)
      throw new UpstreamConnectionError(
        'this device has no symmetric key to sign its $edgeHub tokens with',
        false,
      );
    const expiry = Math.floor(this.now().getTime() / 1000) + (options.tokenSeconds ?? DEFAULTS.tokenSeconds);
    const token = buildSasToken({
      audience: edgeHubAudience(options.iothubHostname, options.edgeDeviceId),
      key,
      expiry,
    });
    return { token, expiry };
  }

  private open(identity: UpstreamIdentity): UpstreamChannel {
    return isAmqp(this.plan) ? this.openAmqp(identity) : this.openMqtt(identity);
  }

  /** A channel of `identity` on the one AMQP connection (made first when there is none). */
  private openAmqp(identity: UpstreamIdentity): UpstreamChannel {
    const { options } = this;
    this.token();
    if (!this.amqp || this.amqp.closed) {
      const keepaliveSeconds = options.keepaliveSeconds ?? DEFAULTS.keepaliveSeconds;
      this.amqp = new AmqpUpstreamConnection({
        host: options.address.host,
        endpoints: this.plan,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        connectTimeoutMs: 10_000,
        // a silent upstream is declared lost after 1.5 keepalives, as over MQTT
        idleTimeoutMs: keepaliveSeconds * 750,
        log: options.log,
      });
    }
    return new AmqpIdentityChannel(this.amqp, identity, {
      iothubHostname: options.iothubHostname,
      edgeDeviceId: options.edgeDeviceId,
      token: () => this.token(),
      now: () => this.now().getTime(),
      log: options.log,
    });
  }

  private openMqtt(identity: UpstreamIdentity): UpstreamChannel {
    const { options } = this;
    const { token: password } = this.token();
    const endpoint = this.plan[0]!;
    const connectionOptions: UpstreamConnectionOptions = {
      address: { ...options.address, port: endpoint.port },
      ...(endpoint.kind === 'mqtt-ws' ? { webSocket: true } : {}),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      clientId: identityId(identity),
      username: upstreamUsername({
        iothubHostname: options.iothubHostname,
        target: identity,
        edgeDeviceId: options.edgeDeviceId,
        productInfo: options.productInfo,
      }),
      password,
      keepaliveSeconds: options.keepaliveSeconds ?? DEFAULTS.keepaliveSeconds,
      connectTimeoutMs: 10_000,
    };
    return (options.connect ?? ((o) => new UpstreamConnection(o)))(connectionOptions);
  }

  private connectMain(): void {
    if (this.stopped) return;
    let main: UpstreamChannel;
    try {
      main = this.open(this.self);
    } catch (error) {
      this.lost(asConnectionError(error));
      return;
    }
    this.main = main;
    main.onClose((error) => {
      if (this.main === main) this.lost(error);
    });
    main.ready.then(
      () => {
        if (this.main !== main || this.stopped) return;
        this.connected = true;
        this.failures = 0;
        this.since = this.now();
        const transport = this.transport();
        this.options.log(`hub: upstream: connected to ${this.where()} over ${transportName(transport.kind)}`);
        this.options.endpoint.attach(this);
        for (const channel of this.managed.values()) this.attachManaged(channel);
      },
      () => undefined,
    );
  }

  /** The link is down: messages are held, every connection closes, the next attempt is scheduled. */
  private lost(error: UpstreamConnectionError): void {
    this.lastError = error.message;
    if (this.retryTimer !== undefined || this.stopped) return;
    if (error.refused) this.options.onSelfRefused?.(error.message);
    const wasConnected = this.connected;
    this.connected = false;
    if (wasConnected || this.failures === 0) this.since = this.now();
    this.options.endpoint.detach();
    this.closeAll('the upstream link is down');
    const delay = reconnectDelayMs(this.failures, this.options.random);
    this.failures += 1;
    this.options.log(
      `hub: upstream: ${this.where()} ${wasConnected ? 'lost' : 'unreachable'}: ${error.message}; next attempt in ${(delay / 1000).toFixed(1)} s`,
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connectMain();
    }, delay);
  }

  private closeAll(reason: string): void {
    const all = [...this.connections.values()];
    this.connections.clear();
    for (const connection of all) connection.close(reason);
    this.mainClose(reason);
  }

  private mainClose(reason: string): void {
    const main = this.main;
    this.main = undefined;
    main?.close(reason);
    const amqp = this.amqp;
    this.amqp = undefined;
    amqp?.close(reason);
  }

  private closeIdle(idleMs: number): void {
    const limit = Date.now() - idleMs;
    for (const [id, connection] of this.connections) {
      if (connection.lastUsed < limit && connection.idle && !this.managed.has(id)) {
        this.connections.delete(id);
        connection.close('idle');
      }
    }
  }
}

function asConnectionError(error: unknown): UpstreamConnectionError {
  if (error instanceof UpstreamConnectionError) return error;
  return new UpstreamConnectionError(error instanceof Error ? error.message : String(error), false);
}
