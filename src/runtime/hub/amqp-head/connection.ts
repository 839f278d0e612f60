import type { Duplex } from 'node:stream';

import rhea, { type Connection, type Delivery, type EventContext, type Receiver, type Sender } from 'rhea';

import type { EdgeHub } from '../hub.js';
import { HubRequestError } from '../hub-request-error.js';
import { clientProtocol } from '../client-protocol.js';
import { peerCertificate } from '../peer-certificate.js';
import type { CloseReason } from '../session/client-proxy.js';
import { ownsTarget, parseLinkAddress, targetIdentityId, type LinkTarget } from './addresses.js';
import { bodyBytes, parsePutToken, plainUsernameIdentity } from './cbs.js';
import { AmqpIdentity, type OutboundKind } from './identity-proxy.js';
import { guardFrameSizes, guardMessageSizes } from './input-guards.js';
import { answerTwinRequest } from './twin-requests.js';
import { idText, inboundTelemetry, type AmqpMessage } from './message-map.js';

export interface AmqpConnectionOptions {
  hub: EdgeHub;
  /** How long a connection has to authenticate a first identity (edgeHub's 60 s). */
  connectTimeoutMs: number;
  log(line: string): void;
}

/** Messages a client may send on one link before the hub has settled the earlier ones. */
const LINK_CREDIT = 64;
/**
 * Links one connection may hold open at once (an SDK client uses at most seven per identity): a
 * client that opens more is refused, so that it cannot grow the daemon's memory without end.
 */
const MAX_LINKS = 1024;
/** Sessions one connection may hold at once (the SDK uses one); past it a new one is ended. */
const MAX_SESSIONS = 64;
/** What a message may take beyond the hub's limit on body and properties: its AMQP encoding. */
const MESSAGE_ENCODING_ROOM = 64 * 1024;
/** The largest AMQP frame the hub takes (a message may span several). */
const MAX_FRAME_BYTES = 64 * 1024;

type Refusal = { condition: string; description: string };

const TOO_MANY_LINKS: Refusal = {
  condition: 'amqp:resource-limit-exceeded',
  description: `a connection holds at most ${MAX_LINKS} links`,
};

/** What each link a client sends on carries, and for whom. */
type Inbound = { kind: 'cbs' } | { kind: 'events' | 'methods' | 'twin'; identity: AmqpIdentity };

let connectionCount = 0;

/**
 * One AMQP connection as IoT Hub and edgeHub serve it. A client authenticates one identity or
 * several: with SASL PLAIN (username `{id}@sas.{hub}`, password a SAS token) or, after SASL
 * ANONYMOUS, by sending a put-token to the `$cbs` node for each identity (again before the token
 * expires, to refresh it); a child edge device's hub puts its own `$edgeHub` token with an
 * `auth-chain` for each identity in its scope, all on one connection. Each identity then opens links to its own addresses only; every link
 * becomes a call on that identity's session in the hub core.
 */
export class AmqpConnection {
  readonly id = `amqp-${++connectionCount}`;
  private readonly identities = new Map<string, AmqpIdentity>();
  private readonly inbound = new WeakMap<Receiver, Inbound>();
  private readonly outboundOwner = new WeakMap<Sender, AmqpIdentity>();
  private readonly connection: Connection;
  private cbsReplies: Sender | undefined;
  private plainIdentity: Awaited<ReturnType<EdgeHub['authenticate']>> | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly guardedSessions = new WeakSet<object>();
  /** Client-certificate checks under way, by identity id (a client opens several links at once). */
  private readonly certificateChecks = new Map<string, Promise<AmqpIdentity | Refusal>>();
  private openLinks = 0;
  private openSessions = 0;
  private toldTooManyLinks = false;
  /** Messages received on each link and not yet settled. */
  private readonly unsettled = new WeakMap<Receiver, number>();
  /** Links refused: not counted, and their close is not an open link closing. */
  private readonly refused = new WeakSet<object>();
  private ended = false;

  constructor(
    private readonly socket: Duplex,
    private readonly options: AmqpConnectionOptions,
    private readonly onEnd: (connection: AmqpConnection) => void,
  ) {
    const container = rhea.create_container({ id: options.hub.deviceId });
    const mechanisms = container.sasl_server_mechanisms;
    mechanisms.enable_anonymous();
    mechanisms.enable_plain((username: string, password: string) => this.plain(username, password));
    this.listen(container);
    this.connection = container.create_connection({
      max_frame_size: MAX_FRAME_BYTES,
      // dispositions and credit are small frames: sent at once, not held back for a delayed ACK
      tcp_no_delay: true,
      receiver_options: { credit_window: 0, autoaccept: false },
    } as never);
    guardFrameSizes(this.connection, MAX_FRAME_BYTES, (size) => {
      this.log(`frame of ${size} bytes over the ${MAX_FRAME_BYTES}-byte limit: closed`);
      this.close({
        condition: 'amqp:connection:framing-error',
        description: `frame of ${size} bytes over the ${MAX_FRAME_BYTES}-byte limit`,
      });
      socket.destroy();
    });
    (this.connection as unknown as { accept(socket: Duplex): void }).accept(socket);
    this.connectTimer = setTimeout(() => {
      if (this.identities.size > 0 || this.ended) return;
      this.log('no identity authenticated in time: closed');
      this.close({ condition: 'amqp:unauthorized-access', description: 'no identity authenticated in time' });
    }, options.connectTimeoutMs);
    this.connectTimer.unref();
  }

  private get hub(): EdgeHub {
    return this.options.hub;
  }

  /** Ends the connection (the hub is closing, or the client took too long). */
  close(error: Refusal = { condition: 'amqp:connection:forced', description: 'the hub is closing' }): void {
    if (this.connection.is_open()) this.connection.close(error);
    else this.connection.socket?.end();
    setTimeout(() => this.connection.socket?.destroy(), 1000).unref();
    this.end();
  }

  private log(line: string): void {
    this.options.log(`hub: amqp: ${this.id}: ${line}`);
  }

  private listen(container: rhea.Container): void {
    container.on('connection_open', () => {
      const plain = this.plainIdentity;
      this.plainIdentity = undefined;
      if (plain?.ok) this.admit(plain.identity, plain.expiresAt);
    });
    container.on('session_open', (context: EventContext) => {
      if (++this.openSessions <= MAX_SESSIONS) return;
      if (this.openSessions === MAX_SESSIONS + 1)
        this.log(`session refused: a connection holds at most ${MAX_SESSIONS} sessions`);
      context.session!.close({
        condition: 'amqp:resource-limit-exceeded',
        description: `a connection holds at most ${MAX_SESSIONS} sessions`,
      });
    });
    container.on('session_close', () => this.openSessions--);
    container.on('session_error', () => undefined);
    container.on('sender_open', (context: EventContext) => this.senderOpened(context.sender!));
    container.on('receiver_open', (context: EventContext) => this.receiverOpened(context.receiver!));
    container.on('message', (context: EventContext) =>
      this.received(context.receiver!, context.message as AmqpMessage, context.delivery!),
    );
    for (const outcome of ['accepted', 'rejected', 'released', 'modified'] as const) {
      container.on(outcome, (context: EventContext) =>
        this.outboundOwner.get(context.sender!)?.settled(context.delivery!, outcome),
      );
    }
    container.on('sendable', (context: EventContext) =>
      this.outboundOwner.get(context.sender!)?.sendable(context.sender!),
    );
    container.on('sender_close', (context: EventContext) => this.linkClosed(context.sender!));
    container.on('receiver_close', (context: EventContext) => this.linkClosed(context.receiver!));
    container.on('sender_error', () => undefined);
    container.on('receiver_error', () => undefined);
    container.on('connection_error', (context: EventContext) => {
      const error = context.connection.error as { description?: string } | undefined;
      this.log(`closed by the client with an error: ${error?.description ?? 'unknown'}`);
    });
    // rhea ends the socket after a protocol error (a bad header or frame)
    container.on('protocol_error', (error: Error) => {
      this.log(`protocol error: ${error.message}`);
      this.end();
    });
    container.on('error', (error: Error) => this.log(`error: ${error.message}`));
    container.on('disconnected', () => this.end());
    // rhea tells 'disconnected' only of a connection that was not closed: one the client closed
    // cleanly ends with its close frame, or at the latest with its socket
    container.on('connection_close', () => this.end());
    this.socket.once('close', () => this.end());
  }

  /** SASL PLAIN: the username names the identity, the password is its SAS token. */
  private async plain(username: string, password: string): Promise<boolean> {
    const named = plainUsernameIdentity(username ?? '');
    if (!named) {
      this.log(`SASL PLAIN refused: username ${JSON.stringify(username).slice(0, 80)} is not {id}@sas.{hub}`);
      return false;
    }
    const result = await this.hub.authenticate(named.deviceId, named.moduleId, { sas: password ?? '' });
    if (!result.ok) {
      this.log(`SASL PLAIN refused for ${targetIdentityId(named)}: ${result.reason}`);
      return false;
    }
    this.plainIdentity = result;
    return true;
  }

  /** An identity authenticated on this connection: its session is opened and attached. */
  private admit(identity: AmqpIdentity['identity'], expiresAt: Date | undefined): void {
    const existing = this.identities.get(identity.id);
    if (existing) {
      if (expiresAt) existing.session.renew(expiresAt);
      return;
    }
    const session = this.hub.openSession(identity, {
      sessionId: `${this.id}/${identity.id}`,
      clean: true,
      protocol: clientProtocol('AMQP', this.socket),
      ...(expiresAt ? { expiresAt } : {}),
    });
    const proxy = new AmqpIdentity(identity, session, (closed, reason) =>
      this.identityClosed(closed, reason),
    );
    this.identities.set(identity.id, proxy);
    session.attach(proxy);
    clearTimeout(this.connectTimer);
    this.log(`${identity.id} authenticated`);
  }

  private identityClosed(identity: AmqpIdentity, reason: CloseReason): void {
    if (this.identities.get(identity.identity.id) === identity) this.identities.delete(identity.identity.id);
    if (reason === 'hub-closing' || (reason === 'expired' && this.identities.size === 0))
      this.close(
        reason === 'expired'
          ? { condition: 'amqp:unauthorized-access', description: 'the SAS token expired' }
          : undefined,
      );
  }

  /** The identity of this connection a device or module address belongs to, or why the link is refused. */
  private identityFor(target: LinkTarget): AmqpIdentity | Refusal {
    if (target.kind === 'cbs') return { condition: 'amqp:internal-error', description: 'not an identity' };
    const identity = this.identities.get(targetIdentityId(target));
    if (!identity || !ownsTarget(identity.identity, target))
      return {
        condition: 'amqp:unauthorized-access',
        description: `no token for ${targetIdentityId(target)} on this connection (put one to $cbs first)`,
      };
    return identity;
  }

  /**
   * Refuses a link as AMQP has it: the answering attach names no terminus for the client's end
   * (no source for a link the client receives on, no target for one it sends on), then a detach
   * carries the error.
   */
  private refuse(link: Sender | Receiver, address: unknown, refusal: Refusal): void {
    // a client past the link limit is told each time, the log only once
    if (refusal !== TOO_MANY_LINKS || !this.toldTooManyLinks)
      this.log(`link to ${JSON.stringify(address).slice(0, 120)} refused: ${refusal.description}`);
    if (refusal === TOO_MANY_LINKS) this.toldTooManyLinks = true;
    this.refused.add(link);
    if (refusal !== TOO_MANY_LINKS) this.openLinks--;
    const attach = (link as unknown as { local: { attach: { source?: unknown; target?: unknown } } }).local
      .attach;
    if (link.is_sender()) attach.source = null;
    else attach.target = null;
    link.close(refusal);
  }

  /** The client opened a link to receive on (the hub sends on it). */
  private senderOpened(sender: Sender): void {
    const address = remoteAddress(sender, 'source');
    if (!this.countLink()) return this.refuse(sender, address, TOO_MANY_LINKS);
    const target = parseLinkAddress(address);
    if (!target)
      return this.refuse(sender, address, {
        condition: 'amqp:not-found',
        description: 'unknown link address',
      });
    sender.set_source({ address: address as string });
    if (target.kind === 'cbs') {
      this.cbsReplies = sender;
      return;
    }
    this.withIdentity(target, (identity) =>
      identity instanceof AmqpIdentity
        ? this.attachOutbound(sender, address, target, identity)
        : this.refuse(sender, address, identity),
    );
  }

  private attachOutbound(sender: Sender, address: unknown, target: LinkTarget, identity: AmqpIdentity): void {
    const kind = outboundKind(target);
    if (!kind)
      return this.refuse(sender, address, {
        condition: 'amqp:not-found',
        description: `${identity.identity.id} cannot receive on this address`,
      });
    identity.addOutbound(kind, sender);
    this.outboundOwner.set(sender, identity);
    if (kind !== 'twin') void identity.session.subscribe(kind);
  }

  /** The client opened a link to send on (the hub receives on it). */
  private receiverOpened(receiver: Receiver): void {
    const address = remoteAddress(receiver, 'target');
    if (!this.countLink()) return this.refuse(receiver, address, TOO_MANY_LINKS);
    const target = parseLinkAddress(address);
    if (!target || target.kind === 'devicebound')
      return this.refuse(receiver, address, {
        condition: 'amqp:not-found',
        description: 'unknown link address',
      });
    receiver.set_target({ address: address as string });
    guardMessageSizes(
      receiver,
      this.hub.maxMessageBytes + MESSAGE_ENCODING_ROOM,
      this.guardedSessions,
      (size, limit) => {
        this.log(`a message already ${size} bytes long is over the ${limit}-byte limit: closed`);
        this.close({
          condition: 'amqp:link:message-size-exceeded',
          description: `a message over the ${this.hub.maxMessageBytes}-byte limit`,
        });
        this.connection.socket?.destroy();
      },
    );
    if (target.kind === 'cbs') {
      this.inbound.set(receiver, { kind: 'cbs' });
      receiver.add_credit(LINK_CREDIT);
      return;
    }
    const kind = target.kind;
    this.withIdentity(target, (identity) => {
      if (!(identity instanceof AmqpIdentity)) return this.refuse(receiver, address, identity);
      identity.addReceiver(receiver);
      this.inbound.set(receiver, { kind, identity });
      receiver.add_credit(LINK_CREDIT);
    });
  }

  /**
   * Calls `use` with the identity of this connection that `target` belongs to, or with why the
   * link is refused. An identity without a token is authenticated by the client certificate of
   * the TLS handshake, when there is one (the SDK's X.509 devices use no CBS and no SASL).
   */
  private withIdentity(target: LinkTarget, use: (identity: AmqpIdentity | Refusal) => void): void {
    const identity = this.identityFor(target);
    const certificate = peerCertificate(this.socket);
    if (identity instanceof AmqpIdentity || target.kind === 'cbs' || !certificate) return use(identity);
    const id = targetIdentityId(target);
    let pending = this.certificateChecks.get(id);
    if (!pending) {
      pending = this.hub.authenticate(target.deviceId, target.moduleId, { certificate }).then(
        (result) => {
          this.certificateChecks.delete(id);
          if (!result.ok) {
            this.log(`refused ${id}: ${result.reason}`);
            const condition = result.full ? 'amqp:resource-limit-exceeded' : 'amqp:unauthorized-access';
            return { condition, description: result.reason };
          }
          this.admit(result.identity, result.expiresAt);
          return this.identities.get(id) ?? identity;
        },
        (error: Error) => {
          this.certificateChecks.delete(id);
          return { condition: 'amqp:internal-error', description: error.message };
        },
      );
      this.certificateChecks.set(id, pending);
    }
    void pending.then((checked) => (this.ended ? undefined : use(checked)));
  }

  /** Counts a link the client opened; false when the connection already holds as many as it may. */
  private countLink(): boolean {
    if (this.openLinks >= MAX_LINKS) return false;
    this.openLinks++;
    return true;
  }

  private linkClosed(link: Sender | Receiver): void {
    if (!this.refused.has(link)) this.openLinks--;
    if (link === this.cbsReplies) this.cbsReplies = undefined;
    const owner =
      this.outboundOwner.get(link as Sender) ??
      (this.inbound.get(link as Receiver) as { identity?: AmqpIdentity } | undefined)?.identity;
    const kind = owner?.removeLink(link);
    if (owner && kind && kind !== 'twin') owner.session.unsubscribe([kind]);
  }

  /**
   * A message was settled: the client may send another. Credit goes back in batches, once half the
   * window is used (a flow frame per message would cost as much as the message), so that messages
   * waiting for the hub plus the credit never exceed the window.
   */
  private creditBack(receiver: Receiver): void {
    const unsettled = (this.unsettled.get(receiver) ?? 1) - 1;
    this.unsettled.set(receiver, unsettled);
    if (!receiver.is_open()) return;
    const room = LINK_CREDIT - (receiver as unknown as { credit: number }).credit - unsettled;
    if (room >= LINK_CREDIT / 2) receiver.add_credit(room);
  }

  /** A message on a link the client sends on; settled (and a credit given back) once handled. */
  private received(receiver: Receiver, message: AmqpMessage, delivery: Delivery): void {
    this.unsettled.set(receiver, (this.unsettled.get(receiver) ?? 0) + 1);
    const inbound = this.inbound.get(receiver);
    const settle = (refusal?: Refusal) => {
      if (refusal) delivery.reject(refusal);
      else delivery.accept();
      this.creditBack(receiver);
    };
    if (!inbound) return settle({ condition: 'amqp:not-allowed', description: 'not a link the hub reads' });
    switch (inbound.kind) {
      case 'cbs':
        settle();
        return void this.putToken(message);
      case 'events':
        return this.telemetry(inbound.identity, message, settle);
      case 'methods': {
        const requestId = idText(message.correlation_id);
        const status = Number(message.application_properties?.['IoThub-status']);
        if (requestId === undefined || !Number.isInteger(status))
          return settle({
            condition: 'amqp:invalid-field',
            description: 'a method response needs a correlation id and IoThub-status',
          });
        inbound.identity.session.answerMethod(requestId, status, bodyBytes(message.body) ?? Buffer.alloc(0));
        return settle();
      }
      case 'twin':
        settle();
        return void answerTwinRequest(inbound.identity, message);
    }
  }

  private telemetry(identity: AmqpIdentity, amqp: AmqpMessage, settle: (refusal?: Refusal) => void): void {
    const message = inboundTelemetry(identity.identity, amqp);
    if (!message)
      return settle({ condition: 'amqp:decode-error', description: 'the body is neither data nor a string' });
    identity.session.send(message).then(
      () => settle(),
      (error: Error) => {
        const tooLarge = error instanceof HubRequestError && error.status === 413;
        this.log(`${identity.identity.id}: message refused: ${error.message}`);
        settle({
          condition: tooLarge ? 'amqp:link:message-size-exceeded' : 'amqp:internal-error',
          description: error.message,
        });
      },
    );
  }

  /** A put-token to `$cbs`, answered with `status-code` 200 or an error status on the reply link. */
  private async putToken(message: AmqpMessage): Promise<void> {
    const request = parsePutToken(message.application_properties, message.body);
    let status = 200;
    let description = 'OK';
    if (!request.ok) {
      status = request.status;
      description = request.reason;
    } else {
      const result = await this.hub.authenticate(
        request.deviceId,
        request.moduleId,
        { sas: request.token },
        request.authChain,
      );
      if (result.ok) this.admit(result.identity, result.expiresAt);
      else {
        // a full hub (MaxConnectedClients) refuses good credentials: 403, not 401
        status = result.full ? 403 : 401;
        description = result.reason;
      }
    }
    if (status !== 200) this.log(`put-token refused: ${description}`);
    const reply: AmqpMessage & { to?: unknown } = {
      correlation_id: message.message_id,
      application_properties: { 'status-code': status, 'status-description': description },
    };
    const replyTo = (message as { reply_to?: unknown }).reply_to;
    if (replyTo !== undefined) reply.to = replyTo;
    if (this.cbsReplies?.is_open()) this.cbsReplies.send(reply as never);
  }

  /** The connection is gone: every identity's session ends. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.connectTimer);
    for (const identity of this.identities.values()) identity.gone();
    this.identities.clear();
    this.onEnd(this);
  }
}

/** What the hub sends on a link a client opens to receive from `target`. */
function outboundKind(target: LinkTarget): OutboundKind | undefined {
  switch (target.kind) {
    case 'events':
      return target.moduleId === undefined ? undefined : 'inputs';
    case 'devicebound':
      return target.moduleId === undefined ? 'c2d' : undefined;
    case 'methods':
      return 'methods';
    case 'twin':
      return 'twin';
    default:
      return undefined;
  }
}

/** The address the client's attach names for the link's source or target. */
function remoteAddress(link: Sender | Receiver, end: 'source' | 'target'): unknown {
  const attach = (
    link as unknown as { remote: { attach?: Record<string, { address?: unknown } | undefined> } }
  ).remote.attach;
  return attach?.[end]?.address;
}
