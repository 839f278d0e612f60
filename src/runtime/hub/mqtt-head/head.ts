import type { TLSSocket } from 'node:tls';

import { Aedes, type AuthenticateError, type Client } from 'aedes';

import type { ClientIdentity, Subscription } from '../connections.js';
import type { EdgeHub } from '../hub.js';
import type { Authentication } from '../identities.js';
import type { SessionStore } from '../sessions.js';
import type { TwinObject } from '../twin/twin-json.js';
import { FrameGuard } from './frame-guard.js';
import { MqttLink } from './link.js';
import type { Wire } from './wire.js';

export interface MqttHeadOptions {
  hub: EdgeHub;
  wire: Wire;
  sessions: SessionStore;
  /** Body plus properties; larger publishes close the connection (IoT Hub's 256 KiB). */
  maxMessageBytes?: number;
  log(line: string): void;
}

const NOT_AUTHORIZED = 5;
/** IoT Hub's limit on a message (body plus properties) and on any inbound packet. */
const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

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
  private readonly identities = new WeakMap<Client, ClientIdentity>();
  /** Payloads the hub publishes; only these may leave the broker. */
  private readonly sessionSets = new WeakMap<Client, Set<Subscription>>();
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
      connectTimeout: 60_000,
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
    });
    broker.on('clientDisconnect', (client) => this.gone(client));
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

  private gone(client: Client): void {
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
    const link = this.links.get(client!);
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
        link?.sendTwinResponse(200, inbound.requestId, this.hub.getTwin(identity));
        return done(null);
      }
      case 'twin-patch-reported':
        return this.patchReported(identity, link, inbound.requestId, payload, done);
      case 'method-response':
        this.hub.methods.respond(identity.id, inbound.requestId, inbound.status, payload);
        return done(null);
      case 'forbidden':
      case 'unknown':
        this.options.log(`hub: mqtt: ${identity.id}: publish to ${packet.topic} refused: ${inbound.reason}`);
        return done(new Error(inbound.reason));
    }
  }

  private patchReported(
    identity: ClientIdentity,
    link: MqttLink | undefined,
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
      link?.sendTwinResponse(400, requestId, { errorCode: 400004, message: problem });
      return done(null);
    }
    this.hub.patchReported(identity, patch as TwinObject).then(
      (version) => {
        link?.sendTwinResponse(204, requestId, undefined, version);
        done(null);
      },
      (error: Error) => {
        link?.sendTwinResponse(500, requestId, { errorCode: 500001, message: error.message });
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
    if (parsed.kind === 'forbidden') {
      // SUBACK 0x80 for this filter; the connection and its other subscriptions stay (an error
      // here would make aedes close the connection, and the SDK reconnect and try again at once)
      this.options.log(`hub: mqtt: ${identity.id}: subscription to ${sub.topic} refused: ${parsed.reason}`);
      return done(null, null);
    }
    if (parsed.kind === 'subscription') {
      const link = this.links.get(client);
      const subscriptions = link?.subscriptions ?? this.sessionOf(client);
      if (!subscriptions.has(parsed.subscription)) {
        subscriptions.add(parsed.subscription);
        this.options.sessions.changed(client.id);
        this.options.log(`hub: mqtt: ${identity.id} subscribed to ${SUBSCRIPTION_LOG[parsed.subscription]}`);
      }
      if (link) this.hub.connections.changed(identity.id);
    } else {
      this.options.log(`hub: mqtt: ${identity.id}: subscription to ${sub.topic} ignored`);
    }
    done(null, { ...sub, qos: Math.min(sub.qos, 1) as 0 | 1 });
  }
}
