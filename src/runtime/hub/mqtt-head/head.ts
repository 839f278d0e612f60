import type { TLSSocket } from 'node:tls';

import { Aedes, type AuthenticateError, type Client } from 'aedes';

import type { ClientIdentity, Subscription } from '../connections.js';
import type { EdgeHub } from '../hub.js';
import { HubRequestError } from '../hub-request-error.js';
import type { Authentication } from '../identities.js';
import type { SessionStore } from '../sessions.js';
import type { TwinObject } from '../twin/twin-json.js';
import { FrameGuard } from './frame-guard.js';
import { MqttLink } from './link.js';
import { watchExpiry } from './token-expiry.js';
import type { Wire } from './wire.js';

export interface MqttHeadOptions {
  hub: EdgeHub;
  wire: Wire;
  sessions: SessionStore;
  /** Body plus properties; larger publishes close the connection (IoT Hub's 256 KiB). */
  maxMessageBytes?: number;
  /** How long a connection has, once its TLS handshake is done, to send its CONNECT (edgeHub's 60 s). */
  connectTimeoutMs?: number;
  log(line: string): void;
}

const NOT_AUTHORIZED = 5;
/** IoT Hub's limit on a message (body plus properties) and on any inbound packet. */
const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 60_000;

function refusal(reason: string): AuthenticateError {
  return Object.assign(new Error(reason), { returnCode: NOT_AUTHORIZED }) as AuthenticateError;
}

/**
 * A client's publish (and a will) is handled whole in authorizePublish: routed, or answered by the
 * hub. Aedes would then match it against every subscription and deliver it to whoever subscribed;
 * in an IoT hub nothing goes from one client to another but through the hub, so that step is
 * skipped, and what reaches a client is only what the hub publishes to it. The broker's
 * publishes without a client ($SYS) go on as before.
 */
function skipFanOutOfClientPublishes(broker: Aedes): void {
  const publish = broker.publish.bind(broker) as (
    packet: unknown,
    client: unknown,
    done?: (error?: Error) => void,
  ) => void;
  (broker as { publish: unknown }).publish = (
    packet: unknown,
    client: unknown,
    done?: (error?: Error | null) => void,
  ) => {
    if (client === null || client === undefined || typeof client === 'function')
      return publish(packet, client, done);
    if (done) process.nextTick(done, null);
  };
}

/** The DER certificate the client presented in the TLS handshake, if it presented one. */
function peerCertificate(client: Client): Buffer | undefined {
  const connection = client.conn as Partial<TLSSocket>;
  const certificate = connection.getPeerCertificate?.();
  return certificate?.raw && certificate.raw.length > 0 ? certificate.raw : undefined;
}

const SUBSCRIPTION_LOG: Record<Subscription, string> = {
  inputs: 'module inputs',
  c2d: 'cloud-to-device messages',
  desired: 'desired property updates',
  methods: 'direct methods',
  'twin-responses': 'twin responses',
};

/**
 * The MQTT head: an aedes broker whose hooks hold the hub's rules. aedes speaks MQTT 3.1.1
 * (CONNECT, keep-alive, QoS 1 acknowledgements, wills, one connection per client id); every
 * publish is handled by the hub in authorizePublish, before the PUBACK, and the broker's own
 * fan-out is switched off: messages reach a client only through the hub.
 */
export class MqttHead {
  readonly broker: Aedes;
  private readonly links = new WeakMap<Client, MqttLink>();
  private readonly linkWaiters = new WeakMap<Client, ((link: MqttLink | undefined) => void)[]>();
  private readonly identities = new WeakMap<Client, ClientIdentity>();
  /** Payloads the hub publishes; only these may leave the broker. */
  private readonly sessionSets = new WeakMap<Client, Set<Subscription>>();
  /** When the SAS token a client connected with expires (none for a client certificate). */
  private readonly tokenExpiries = new WeakMap<Client, Date>();
  /** Stops the one expiry timer of a connected client. */
  private readonly expiryWatches = new WeakMap<Client, () => void>();
  private unguarded = false;

  private constructor(
    private readonly options: MqttHeadOptions,
    broker: Aedes,
  ) {
    this.broker = broker;
  }

  static async create(options: MqttHeadOptions): Promise<MqttHead> {
    // the hooks are given before the head exists; they reach it through this box
    const box: { head?: MqttHead } = {};
    const broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) =>
        box.head!.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => box.head!.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => box.head!.authorizeSubscribe(client, sub, done),
      // the broker's own $SYS publishes never go to a client (a client's publishes skip the fan-out)
      authorizeForward: (_client, packet) => (packet.topic.startsWith('$SYS/') ? null : packet),
      // IoT Hub allows 16 QoS 1 publishes in flight per client; QoS 2 is refused anyway
      maxInflightInbound: 16,
      // as edgeHub: a connection must send its CONNECT within 60 s
      connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    });
    skipFanOutOfClientPublishes(broker);
    box.head = new MqttHead(options, broker);
    box.head.listen();
    return box.head;
  }

  /**
   * Hands a (TLS) connection to the broker, behind a guard on its packet headers: aedes buffers a
   * packet whole before anyone may judge it, so a header announcing more than the limit (up to
   * 256 MiB) would hold the connection open and its bytes in memory until keep-alive ends it.
   */
  handle = (socket: import('node:stream').Duplex): void => {
    const client = this.broker.handle(socket) as Client & {
      _parser?: {
        parse(buffer: Buffer): unknown;
        on(event: 'packet', listener: (packet: { cmd: string }) => void): void;
      };
    };
    const parser = client._parser;
    if (typeof parser?.parse !== 'function' || typeof parser.on !== 'function') {
      if (!this.unguarded)
        this.options.log(
          'hub: mqtt: packet sizes are not guarded and clean sessions are not acknowledged (aedes has no _parser)',
        );
      this.unguarded = true;
      return;
    }
    // the broker's acknowledgement event names no packet for a clean session: follow its PUBACKs here
    parser.on('packet', (packet) => {
      if (packet.cmd === 'puback') this.links.get(client)?.pubackInOrder();
    });
    // an accepted publish has at most 4 bytes of MQTT framing besides its topic and body
    const guard = new FrameGuard((this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES) + 4);
    const parse = parser.parse.bind(parser);
    parser.parse = (buffer: Buffer) => {
      const problem = guard.feed(buffer);
      if (problem === undefined) return parse(buffer);
      // the broker's own error path: logged as a client error, the connection destroyed, the will sent
      client.emit('error', new Error(problem));
      return 0;
    };
  };

  close(): Promise<void> {
    return new Promise((resolve) => this.broker.close(() => resolve()));
  }

  private get hub(): EdgeHub {
    return this.options.hub;
  }

  private listen(): void {
    const { broker } = this;
    broker.on('clientReady', (client) => {
      const identity = this.identities.get(client);
      if (!identity) return client.close();
      const subscriptions = this.sessionOf(client);
      const link = new MqttLink(
        identity,
        client,
        subscriptions,
        this.options.wire,
        (target, topic, payload, qos) =>
          new Promise((resolve, reject) =>
            target.publish({ cmd: 'publish', topic, payload, qos, retain: false, dup: false }, (error) =>
              error ? reject(error) : resolve(),
            ),
          ),
      );
      this.links.set(client, link);
      this.hub.connections.add(link);
      this.settleLinkWaiters(client, link);
      this.closeAtExpiry(client, identity);
    });
    broker.on('clientDisconnect', (client) => {
      this.expiryWatches.get(client)?.();
      this.gone(client);
    });
    broker.on('clientError', (client, error) => {
      // a refused CONNECT was logged with its reason when it was refused
      if ((error as Partial<AuthenticateError>).returnCode === NOT_AUTHORIZED) return;
      this.options.log(`hub: mqtt: ${client.id}: ${error.message}`);
    });
    broker.on('ack', (packet, client) => {
      const payload = (packet as { payload?: unknown } | undefined)?.payload;
      if (Buffer.isBuffer(payload)) this.links.get(client)?.acknowledged(payload);
    });
    broker.on('unsubscribe', (topics, client) => {
      const link = this.links.get(client);
      if (!link) return;
      for (const topic of topics) {
        const parsed = this.options.wire.subscribe(topic, link.identity);
        if (parsed.kind === 'subscription') link.subscriptions.delete(parsed.subscription);
      }
      this.options.sessions.changed(client.id);
      this.hub.connections.changed(link.identity.id);
    });
  }

  /**
   * The client's subscriptions, opened once per connection: a SUBSCRIBE may be handled before
   * the broker reports the client ready, and both must see the same set (for a clean session
   * nothing else holds it).
   */
  private sessionOf(client: Client): Set<Subscription> {
    let subscriptions = this.sessionSets.get(client);
    if (!subscriptions) {
      subscriptions = this.options.sessions.open(client.id, client.clean);
      this.sessionSets.set(client, subscriptions);
    }
    return subscriptions;
  }

  /**
   * As IoT Hub does, a connection opened with a SAS token ends when the token expires: one timer per
   * connection, nothing on the message path. The SDKs connect again with a new token before that
   * (that new connection replaces this one and has its own expiry). The will is dropped: it would
   * be published on the authority of the expired token.
   */
  private closeAtExpiry(client: Client, identity: ClientIdentity): void {
    const expiresAt = this.tokenExpiries.get(client);
    if (expiresAt === undefined) return;
    const stop = watchExpiry(expiresAt, () => {
      this.options.log(
        `hub: mqtt: ${identity.id}: SAS token expired at ${expiresAt.toISOString()}: disconnected`,
      );
      (client as Client & { will?: unknown }).will = null;
      client.close();
    });
    this.expiryWatches.set(client, stop);
  }

  /**
   * The client's link once it is ready. MQTT lets a client send before it has the CONNACK; an
   * answer to such a request waits for the link, so it follows the CONNACK.
   */
  private linkOf(client: Client): Promise<MqttLink | undefined> {
    const link = this.links.get(client);
    if (link) return Promise.resolve(link);
    return new Promise((resolve) => {
      const waiting = this.linkWaiters.get(client) ?? [];
      waiting.push(resolve);
      this.linkWaiters.set(client, waiting);
    });
  }

  private settleLinkWaiters(client: Client, link: MqttLink | undefined): void {
    const waiting = this.linkWaiters.get(client);
    if (!waiting) return;
    this.linkWaiters.delete(client);
    for (const resolve of waiting) resolve(link);
  }

  /** Answers a twin request on the client's link, once it has one. */
  private twinResponse(
    client: Client,
    status: number,
    requestId: string,
    body: unknown,
    version?: number,
  ): void {
    void this.linkOf(client).then((link) => link?.sendTwinResponse(status, requestId, body, version));
  }

  private gone(client: Client): void {
    this.settleLinkWaiters(client, undefined);
    const link = this.links.get(client);
    if (!link) return;
    this.links.delete(client);
    link.disconnected();
    // the hub redelivers what was in flight; the broker must not resend it too
    client.emptyOutgoingQueue(() => undefined);
    this.hub.connections.remove(link);
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const parsed = this.options.wire.connect(client.id, username);
    if (!parsed.ok) {
      this.options.log(`hub: mqtt: refused ${JSON.stringify(client.id)}: ${parsed.reason}`);
      return done(refusal(parsed.reason), false);
    }
    const { identities } = this.hub;
    let authentication: Promise<Authentication>;
    if (password && password.length > 0) {
      authentication = identities.authenticateSas(
        parsed.deviceId,
        parsed.moduleId,
        password.toString('utf8'),
      );
    } else {
      // no password: the client certificate presented in the TLS handshake is the credential
      const certificate = peerCertificate(client);
      if (!certificate) {
        this.options.log(`hub: mqtt: refused ${client.id}: neither a SAS token nor a client certificate`);
        return done(refusal('no credentials'), false);
      }
      authentication = identities.authenticateCertificate(parsed.deviceId, parsed.moduleId, certificate);
    }
    authentication.then(
      (result) => {
        if (!result.ok) {
          this.options.log(`hub: mqtt: refused ${client.id}: ${result.reason}`);
          return done(refusal(result.reason), false);
        }
        this.identities.set(client, result.identity);
        if (result.expiresAt) this.tokenExpiries.set(client, result.expiresAt);
        done(null, true);
      },
      (error: Error) => done(refusal(error.message), false),
    );
  }

  private authorizePublish(
    client: Client | null,
    packet: import('aedes').PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    const identity = client && this.identities.get(client);
    if (!identity) return done(new Error('not authenticated'));
    if (packet.qos === 2) return done(new Error('QoS 2 is not supported'));
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const max = this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (payload.length + Buffer.byteLength(packet.topic) > max) {
      return done(new Error(`message of ${payload.length} bytes is over the ${max}-byte limit`));
    }
    const inbound = this.options.wire.publish(packet.topic, payload, identity);
    switch (inbound.kind) {
      case 'telemetry': {
        const message = inbound.message;
        if (packet.retain) message.properties['mqtt-retain'] = 'true';
        if (packet.dup) message.properties['mqtt-dup'] = 'true';
        // aedes publishes a will through this same hook when a connection drops
        if (packet === (client as Client & { will?: unknown }).will) message.properties.MessageType = 'Will';
        packet.retain = false;
        this.hub.telemetry(message).then(
          () => done(null),
          (error: Error) => done(error),
        );
        return;
      }
      case 'twin-get': {
        this.twinResponse(client!, 200, inbound.requestId, this.hub.getTwin(identity));
        return done(null);
      }
      case 'twin-patch-reported':
        return this.patchReported(identity, client!, inbound.requestId, payload, done);
      case 'method-response':
        this.hub.methods.respond(identity.id, inbound.requestId, inbound.status, payload);
        return done(null);
      case 'forbidden':
      case 'unknown':
        this.options.log(`hub: mqtt: ${identity.id}: publish refused: ${inbound.reason}`);
        return done(new Error(inbound.reason));
    }
  }

  private patchReported(
    identity: ClientIdentity,
    client: Client,
    requestId: string,
    payload: Buffer,
    done: (error?: Error | null) => void,
  ): void {
    let patch: unknown;
    try {
      patch = JSON.parse(payload.toString('utf8'));
    } catch {
      patch = undefined;
    }
    const problem =
      patch === undefined ? 'the body is not JSON' : this.options.wire.reportedPatchProblem(patch);
    if (problem !== undefined) {
      this.twinResponse(client, 400, requestId, { errorCode: 400004, message: problem });
      return done(null);
    }
    this.hub.patchReported(identity, patch as TwinObject).then(
      (version) => {
        this.twinResponse(client, 204, requestId, undefined, version);
        done(null);
      },
      (error: Error) => {
        // IoT Hub's status and error code (503001: try again later; 500001: server error)
        const status = error instanceof HubRequestError ? error.status : 500;
        this.twinResponse(client, status, requestId, {
          errorCode: status * 1000 + 1,
          message: error.message,
        });
        done(null);
      },
    );
  }

  private authorizeSubscribe(
    client: Client,
    sub: import('aedes').Subscription,
    done: (error: Error | null, subscription?: import('aedes').Subscription | null) => void,
  ): void {
    const identity = this.identities.get(client);
    if (!identity) return done(new Error('not authenticated'));
    const parsed = this.options.wire.subscribe(sub.topic, identity);
    if (parsed.kind !== 'subscription') {
      // As IoT Hub: a filter that is not one of its topics for this identity (another identity's,
      // `#`, `$SYS/#`) gets SUBACK 0x80; the connection and its other subscriptions stay (an error
      // here would make aedes close the connection, and the SDK reconnect and try again at once)
      this.options.log(
        `hub: mqtt: ${identity.id}: subscription to ${JSON.stringify(sub.topic)} refused: ${parsed.reason}`,
      );
      return done(null, null);
    }
    const link = this.links.get(client);
    const subscriptions = link?.subscriptions ?? this.sessionOf(client);
    const granted = { ...sub, qos: Math.min(sub.qos, 1) as 0 | 1 };
    if (subscriptions.has(parsed.subscription)) {
      if (link) this.hub.connections.changed(identity.id);
      return done(null, granted);
    }
    subscriptions.add(parsed.subscription);
    if (link) this.hub.connections.changed(identity.id);
    // a persistent session's subscription is granted once it is on disk: the SDK never subscribes
    // again after a restart; one that could not be saved is refused (SUBACK 0x80) and forgotten
    this.options.sessions.changed(client.id).then(
      () => {
        this.options.log(`hub: mqtt: ${identity.id} subscribed to ${SUBSCRIPTION_LOG[parsed.subscription]}`);
        done(null, granted);
      },
      (error: Error) => {
        subscriptions.delete(parsed.subscription);
        if (link) this.hub.connections.changed(identity.id);
        this.options.log(
          `hub: mqtt: ${identity.id}: subscription to ${JSON.stringify(sub.topic)} refused: ${error.message}`,
        );
        done(null, null);
      },
    );
  }
}
