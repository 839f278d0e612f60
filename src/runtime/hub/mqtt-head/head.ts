import tls from 'node:tls';

import { Aedes, type AuthenticateError, type Client } from 'aedes';

import type { Credentials, EdgeHub } from '../hub.js';
import { clientProtocol } from '../client-protocol.js';
import { peerCertificate } from '../peer-certificate.js';
import type { ProtocolHead } from '../protocol-head.js';
import type { DeviceSession, TwinReply } from '../session/device-session.js';
import { FrameGuard } from './frame-guard.js';
import { MqttLink } from './link.js';
import { OrderedAcks } from './ordered-acks.js';
import { readPuback, readPublish, writePuback, type ReadPublish } from './packets.js';
import type { Wire } from './wire.js';

export interface MqttHeadOptions {
  hub: EdgeHub;
  wire: Wire;
  /** How long a connection has, once its TLS handshake is done, to send its CONNECT (edgeHub's 60 s). */
  connectTimeoutMs?: number;
  log(line: string): void;
}

const NOT_AUTHORIZED = 5;
/** CONNACK "server unavailable": the hub already has as many clients as MaxConnectedClients allows. */
const SERVER_UNAVAILABLE = 3;
/**
 * Telemetry publishes of one connection the head takes while earlier ones still wait for the store
 * (IoT Hub's 16 QoS 1 publishes in flight, with room for a client that exceeds it a little); past
 * it a publish goes through the broker, which reads nothing more from the connection until it is
 * acknowledged.
 */
const PIPELINED_PUBLISHES = 64;
const DEFAULT_CONNECT_TIMEOUT_MS = 60_000;

function refusal(reason: string, returnCode = NOT_AUTHORIZED): AuthenticateError {
  return Object.assign(new Error(reason), { returnCode }) as AuthenticateError;
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

/** As the broker does for every packet it handles: the client's keep-alive starts again. */
function refreshKeepalive(client: Client): void {
  const keepalive = client as Client & { _keepaliveInterval?: number; _keepaliveTimer?: NodeJS.Timeout };
  if ((keepalive._keepaliveInterval ?? 0) > 0) keepalive._keepaliveTimer?.refresh();
}

/**
 * The MQTT head: an aedes broker that translates IoT Hub's MQTT into calls on the hub core. aedes
 * speaks MQTT 3.1.1 (CONNECT, keep-alive, QoS 1 acknowledgements, wills, one connection per client
 * id); a CONNECT is authenticated by the hub, which opens a DeviceSession for the connection; every
 * publish becomes a call on that session in authorizePublish, before the PUBACK, and the broker's
 * own fan-out is switched off: messages reach a client only through its session's proxy.
 */
export class MqttHead implements ProtocolHead {
  readonly name = 'MQTT';
  readonly binding = 'mqtt';
  readonly broker: Aedes;
  private readonly links = new WeakMap<Client, MqttLink>();
  private readonly linkWaiters = new WeakMap<Client, ((link: MqttLink | undefined) => void)[]>();
  /** The session of each authenticated connection, opened when its CONNECT is accepted. */
  private readonly sessions = new WeakMap<Client, DeviceSession>();
  /** The telemetry acknowledgements of each connection, in arrival order. */
  private readonly acks = new WeakMap<Client, OrderedAcks>();
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

  server(options: tls.TlsOptions): tls.Server {
    return tls.createServer(options, (socket) => this.handle(socket));
  }

  /**
   * Hands a (TLS) connection to the broker, behind a guard on its packet headers: aedes buffers a
   * packet whole before anyone may judge it, so a header announcing more than the limit (up to
   * 256 MiB) would hold the connection open and its bytes in memory until keep-alive ends it.
   * The guard cuts the bytes into whole packets: telemetry publishes and the PUBACKs of the hub's
   * deliveries are read and taken here, the rest goes on to the broker's parser, in order.
   */
  handle = (socket: import('node:stream').Duplex): void => {
    const client = this.broker.handle(socket) as Client & { _parser?: { parse(buffer: Buffer): unknown } };
    const parser = client._parser;
    if (typeof parser?.parse !== 'function') {
      if (!this.unguarded)
        this.options.log(
          'hub: mqtt: packet sizes are not guarded and deliveries are never acknowledged (aedes has no _parser)',
        );
      this.unguarded = true;
      return;
    }
    // an accepted publish has at most 4 bytes of MQTT framing besides its topic and body
    const guard = new FrameGuard(this.hub.maxMessageBytes + 4);
    const parse = parser.parse.bind(parser);
    const onFrame = (packet: Buffer, bodyAt: number) => {
      if (!this.takeFrame(client, packet, bodyAt)) parse(packet);
    };
    parser.parse = (buffer: Buffer) => {
      const problem = guard.feed(buffer, onFrame);
      // the broker's own error path: logged as a client error, the connection destroyed, the will sent
      if (problem !== undefined) client.emit('error', new Error(problem));
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
      const session = this.sessions.get(client);
      if (!session) return client.close();
      const link = new MqttLink(
        session.identity,
        client,
        this.options.wire,
        (target, topic, payload, qos) =>
          new Promise((resolve, reject) =>
            target.publish({ cmd: 'publish', topic, payload, qos, retain: false, dup: false }, (error) =>
              error ? reject(error) : resolve(),
            ),
          ),
      );
      this.links.set(client, link);
      session.attach(link);
      this.settleLinkWaiters(client, link);
    });
    broker.on('clientDisconnect', (client) => this.gone(client));
    broker.on('clientError', (client, error) => {
      // a refused CONNECT was logged with its reason when it was refused
      if ((error as Partial<AuthenticateError>).returnCode === NOT_AUTHORIZED) return;
      this.options.log(`hub: mqtt: ${client.id}: ${error.message}`);
    });
    broker.on('unsubscribe', (topics, client) => {
      const session = this.sessions.get(client);
      if (!session) return;
      const kinds = topics.flatMap((topic) => {
        const parsed = this.options.wire.subscribe(topic, session.identity);
        return parsed.kind === 'subscription' ? [parsed.subscription] : [];
      });
      session.unsubscribe(kinds);
    });
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
  private twinResponse(client: Client, requestId: string, reply: TwinReply): void {
    void this.linkOf(client).then((link) =>
      link?.sendTwinResponse(reply.status, requestId, reply.body, reply.version),
    );
  }

  private gone(client: Client): void {
    this.settleLinkWaiters(client, undefined);
    this.sessions.get(client)?.detach();
    const link = this.links.get(client);
    if (!link) return;
    this.links.delete(client);
    link.disconnected();
    // the hub redelivers what was in flight; the broker must not resend it too
    client.emptyOutgoingQueue(() => undefined);
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
    let credentials: Credentials;
    if (password && password.length > 0) {
      credentials = { sas: password.toString('utf8') };
    } else {
      // no password: the client certificate presented in the TLS handshake is the credential
      const certificate = peerCertificate(client.conn);
      if (!certificate) {
        this.options.log(`hub: mqtt: refused ${client.id}: neither a SAS token nor a client certificate`);
        return done(refusal('no credentials'), false);
      }
      credentials = { certificate };
    }
    this.hub.authenticate(parsed.deviceId, parsed.moduleId, credentials, parsed.authChain).then(
      (result) => {
        if (!result.ok) {
          this.options.log(`hub: mqtt: refused ${client.id}: ${result.reason}`);
          return done(refusal(result.reason, result.full ? SERVER_UNAVAILABLE : NOT_AUTHORIZED), false);
        }
        const session = this.hub.openSession(result.identity, {
          sessionId: client.id,
          clean: client.clean,
          protocol: clientProtocol('MQTT', client.conn),
          ...(result.expiresAt ? { expiresAt: result.expiresAt } : {}),
        });
        this.sessions.set(client, session);
        done(null, true);
      },
      (error: Error) => done(refusal(error.message), false),
    );
  }

  /**
   * A telemetry publish (QoS 0 or 1) of a connected client, taken without the broker: the broker
   * handles the publishes of one read from the socket together and reads no more until all of them
   * are acknowledged, so each read would wait for the store's commit and disk sync before the next.
   * Here the next publishes are read and routed (delivered as soon as the store has them) while
   * earlier ones wait for the sync; each PUBACK still goes out only once its message is held as
   * the store promises, in arrival order. False: the broker handles the packet (anything else,
   * a topic it would refuse, or too many publishes already waiting).
   */
  private takeTelemetry(client: Client, packet: ReadPublish): boolean {
    const session = this.sessions.get(client);
    if (!session || !this.links.has(client) || !client.connected) return false;
    const { topic } = packet;
    if (topic.length === 0 || topic.includes('#') || topic.includes('+')) return false;
    const acks = this.acksOf(client);
    if (acks.pending >= PIPELINED_PUBLISHES) return false;
    const inbound = this.options.wire.publish(topic, packet.payload, session.identity);
    if (inbound.kind !== 'telemetry') return false;
    refreshKeepalive(client);
    const message = inbound.message;
    if (packet.retain) message.properties['mqtt-retain'] = 'true';
    if (packet.dup) message.properties['mqtt-dup'] = 'true';
    const messageId = packet.messageId;
    acks.add(
      session.send(message),
      () => {
        if (packet.qos === 1 && messageId !== undefined) writePuback(client.conn, messageId);
      },
      // the broker's own error path: logged as a client error, the connection closed
      (error) => client.emit('error', error),
    );
    return true;
  }

  /**
   * A whole packet the head takes without the broker: a telemetry publish, or a PUBACK for one of
   * the hub's deliveries (which the broker never saw). False: the broker's parser reads it.
   */
  private takeFrame(client: Client, packet: Buffer, bodyAt: number): boolean {
    const messageId = readPuback(packet, bodyAt);
    if (messageId !== undefined) {
      if (!this.links.get(client)?.puback(messageId)) return false;
      refreshKeepalive(client);
      return true;
    }
    const publish = readPublish(packet, bodyAt);
    return publish !== undefined && this.takeTelemetry(client, publish);
  }

  private acksOf(client: Client): OrderedAcks {
    let acks = this.acks.get(client);
    if (!acks) {
      acks = new OrderedAcks();
      this.acks.set(client, acks);
    }
    return acks;
  }

  private authorizePublish(
    client: Client | null,
    packet: import('aedes').PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    const session = client && this.sessions.get(client);
    if (!session) return done(new Error('not authenticated'));
    if (packet.qos === 2) return done(new Error('QoS 2 is not supported'));
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const inbound = this.options.wire.publish(packet.topic, payload, session.identity);
    switch (inbound.kind) {
      case 'telemetry': {
        const message = inbound.message;
        if (packet.retain) message.properties['mqtt-retain'] = 'true';
        if (packet.dup) message.properties['mqtt-dup'] = 'true';
        // aedes publishes a will through this same hook when a connection drops
        if (packet === (client as Client & { will?: unknown }).will) message.properties.MessageType = 'Will';
        packet.retain = false;
        // after the telemetry taken past the broker that came before it: PUBACKs in arrival order
        this.acksOf(client!).add(
          session.send(message),
          () => done(null),
          (error) => done(error),
        );
        return;
      }
      case 'twin-get':
        void session.getTwin().then((reply) => {
          this.twinResponse(client!, inbound.requestId, reply);
          done(null);
        });
        return;
      case 'twin-patch-reported':
        void session.patchReported(payload).then((reply) => {
          this.twinResponse(client!, inbound.requestId, reply);
          done(null);
        });
        return;
      case 'method-response':
        session.answerMethod(inbound.requestId, inbound.status, payload);
        return done(null);
      case 'forbidden':
      case 'unknown':
        this.options.log(`hub: mqtt: ${session.identity.id}: publish refused: ${inbound.reason}`);
        return done(new Error(inbound.reason));
    }
  }

  private authorizeSubscribe(
    client: Client,
    sub: import('aedes').Subscription,
    done: (error: Error | null, subscription?: import('aedes').Subscription | null) => void,
  ): void {
    const session = this.sessions.get(client);
    if (!session) return done(new Error('not authenticated'));
    const parsed = this.options.wire.subscribe(sub.topic, session.identity);
    if (parsed.kind !== 'subscription') {
      // As IoT Hub: a filter that is not one of its topics for this identity (another identity's,
      // `#`, `$SYS/#`) gets SUBACK 0x80; the connection and its other subscriptions stay (an error
      // here would make aedes close the connection, and the SDK reconnect and try again at once)
      this.options.log(
        `hub: mqtt: ${session.identity.id}: subscription to ${JSON.stringify(sub.topic)} refused: ${parsed.reason}`,
      );
      return done(null, null);
    }
    const granted = { ...sub, qos: Math.min(sub.qos, 1) as 0 | 1 };
    void session.subscribe(parsed.subscription).then((ok) => done(null, ok ? granted : null));
  }
}
