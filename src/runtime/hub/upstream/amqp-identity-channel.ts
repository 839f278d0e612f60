import type { Delivery, EventContext, Receiver, Sender } from 'rhea';

import {
  dataSection,
  idText,
  inboundTelemetry,
  outboundMessage,
  type AmqpMessage,
} from '../amqp-head/message-map.js';
import { bodyBytes } from '../amqp-head/cbs.js';
import {
  c2dTopic,
  classifyPublish,
  desiredPatchTopic,
  methodRequestTopic,
  twinResponseTopic,
} from '../mqtt/topics.js';
import type { HubMessage } from '../../routing/message.js';
import {
  amqpLinkAddress,
  linkAuthChainProperties,
  putTokenProperties,
  type AmqpLinkKind,
} from './amqp-wire.js';
import { opened, type AmqpUpstreamConnection } from './amqp-upstream-connection.js';
import { renewalDelayMs } from './token-renewal.js';
import { UpstreamConnectionError, type UpstreamChannel } from './upstream-connection.js';
import { identityId, type UpstreamIdentity } from './upstream-wire.js';

/** The API version the twin and method links name, as the SDKs do. */
const API_VERSION = '2021-04-12';

export interface AmqpIdentityChannelOptions {
  iothubHostname: string;
  edgeDeviceId: string;
  /** A fresh `$edgeHub` token and its expiry (s since the epoch); called again to renew it. */
  token(): { token: string; expiry: number };
  now(): number;
  log(line: string): void;
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * One identity on the multiplexed AMQP upstream connection: its own put-token (renewed before it
 * expires), its own links. It offers the same operations as an MQTT connection of that identity, in
 * IoT Hub's MQTT topic terms (twin requests, method answers and what comes down are translated to
 * and from the AMQP links a device uses), so the managed channel and the reported mirror speak one
 * vocabulary over both protocols. Telemetry goes up on the identity's `messages/events` link with
 * the message's properties as AMQP properties, acknowledged by the upstream's disposition.
 */
export class AmqpIdentityChannel implements UpstreamChannel {
  readonly ready: Promise<void>;
  lastUsed = Date.now();
  private ended: UpstreamConnectionError | undefined;
  private readonly closeListeners: ((error: UpstreamConnectionError) => void)[] = [];
  private readonly messageListeners: ((topic: string, payload: Buffer) => void)[] = [];
  private readonly senders = new Map<AmqpLinkKind, { sender: Sender; opened: Promise<void> }>();
  private readonly receivers: Receiver[] = [];
  /** Messages waiting for credit, by link. */
  private readonly queued = new Map<Sender, { message: AmqpMessage; pending: Pending }[]>();
  private readonly inFlight = new Map<Delivery, Pending>();
  /** Twin requests the channel makes itself (the desired subscription), by correlation id. */
  private readonly ownRequests = new Map<string, (status: number) => void>();
  private renewTimer: NodeJS.Timeout | undefined;
  private subscribed: Promise<void> | undefined;
  private counter = 0;

  constructor(
    private readonly connection: AmqpUpstreamConnection,
    readonly identity: UpstreamIdentity,
    private readonly options: AmqpIdentityChannelOptions,
  ) {
    connection.onClose((error) => this.end(error));
    this.ready = this.authenticate();
    this.ready.catch((error: UpstreamConnectionError) => this.end(error));
  }

  get closed(): boolean {
    return this.ended !== undefined;
  }

  get idle(): boolean {
    return this.inFlight.size === 0 && [...this.queued.values()].every((queue) => queue.length === 0);
  }

  onClose(listener: (error: UpstreamConnectionError) => void): void {
    if (this.ended) listener(this.ended);
    else this.closeListeners.push(listener);
  }

  onMessage(listener: (topic: string, payload: Buffer) => void): void {
    this.messageListeners.push(listener);
  }

  /** Puts this identity's token; again before each token expires, for as long as the channel lives. */
  private async authenticate(): Promise<void> {
    const issued = this.options.now();
    const { token, expiry } = this.options.token();
    await this.connection.putToken(
      putTokenProperties(this.options.iothubHostname, this.identity, this.options.edgeDeviceId),
      token,
    );
    if (this.ended) throw this.ended;
    this.renewTimer = setTimeout(
      () => {
        if (this.ended) return;
        this.authenticate().catch((error: UpstreamConnectionError) => {
          this.options.log(
            `hub: upstream: ${identityId(this.identity)}: token not renewed: ${error.message}`,
          );
          this.end(error);
        });
      },
      renewalDelayMs(issued, expiry, this.options.now()),
    );
    this.renewTimer.unref();
  }

  /** Sends a routed message as this identity; resolves when the upstream accepted it. */
  async send(message: HubMessage): Promise<void> {
    await this.ready;
    this.lastUsed = Date.now();
    const amqp = outboundMessage(message);
    delete amqp.message_annotations;
    await this.transfer(await this.sender('events'), amqp);
  }

  async publish(topic: string, body: Buffer): Promise<void> {
    await this.ready;
    this.lastUsed = Date.now();
    const request = classifyPublish(this.identity, topic, body);
    switch (request.kind) {
      case 'telemetry':
        return this.send(request.message);
      case 'twin-get':
        return this.transfer(
          await this.sender('twin'),
          twinRequest('GET', request.requestId, undefined, Buffer.from(' ')),
        );
      case 'twin-patch-reported':
        return this.transfer(
          await this.sender('twin'),
          twinRequest('PATCH', request.requestId, '/properties/reported', body),
        );
      case 'method-response':
        return this.transfer(await this.sender('methods'), {
          correlation_id: request.requestId,
          application_properties: { 'IoThub-status': request.status },
          body: dataSection(body),
        });
      default:
        throw new UpstreamConnectionError(`cannot send ${request.reason} over AMQP`, false);
    }
  }

  /**
   * Opens the links that hear from upstream (twin, methods, and a device's cloud-to-device messages)
   * and asks for desired-property patches. The filters name what an MQTT client would subscribe to;
   * over AMQP the same subscriptions are the identity's links.
   */
  subscribe(_filters: string[]): Promise<void> {
    if (!this.subscribed) {
      const subscribing = this.openDownstream();
      this.subscribed = subscribing;
      // a failed subscription may be asked for again
      subscribing.catch(() => {
        if (this.subscribed === subscribing) this.subscribed = undefined;
      });
    }
    return this.subscribed;
  }

  private async openDownstream(): Promise<void> {
    await this.ready;
    const links: Promise<unknown>[] = [this.sender('twin'), this.sender('methods')];
    links.push(this.receiver('twin', (message) => this.twinMessage(message)));
    links.push(this.receiver('methods', (message) => this.methodRequest(message)));
    if (this.identity.moduleId === undefined)
      links.push(this.receiver('devicebound', (message) => this.c2d(message)));
    await Promise.all(links);
    const id = `sub-${++this.counter}`;
    const status = await new Promise<number>((resolve, reject) => {
      this.ownRequests.set(id, resolve);
      this.onClose(reject);
      void this.sender('twin')
        .then((sender) =>
          this.transfer(
            sender,
            twinRequest('PUT', id, '/notifications/twin/properties/desired', Buffer.from(' ')),
          ),
        )
        .catch(reject);
    });
    if (status < 200 || status > 299)
      throw new UpstreamConnectionError(`desired-property subscription refused with ${status}`, false);
  }

  private linkProperties(kind: AmqpLinkKind): Record<string, string> | undefined {
    const properties = {
      ...linkAuthChainProperties(this.identity, this.options.edgeDeviceId),
      ...(kind === 'twin' || kind === 'methods'
        ? {
            'com.microsoft:api-version': API_VERSION,
            'com.microsoft:channel-correlation-id': `${kind}:${identityId(this.identity)}`,
          }
        : {}),
    };
    return Object.keys(properties).length === 0 ? undefined : properties;
  }

  private async sender(kind: AmqpLinkKind): Promise<Sender> {
    if (this.ended) throw this.ended;
    let link = this.senders.get(kind);
    if (!link) {
      const sender = this.connection.openSender(
        amqpLinkAddress(this.identity, kind),
        this.linkProperties(kind),
      );
      link = { sender, opened: opened(sender, this.connection) };
      link.opened.catch(() => undefined);
      this.senders.set(kind, link);
      this.listen(sender);
    }
    await link.opened;
    return link.sender;
  }

  private async receiver(kind: AmqpLinkKind, handle: (message: AmqpMessage) => void): Promise<void> {
    const receiver = this.connection.openReceiver(
      amqpLinkAddress(this.identity, kind),
      this.linkProperties(kind),
    );
    this.receivers.push(receiver);
    receiver.on('message', (context: EventContext) => {
      if (!this.ended) handle(context.message as AmqpMessage);
    });
    receiver.on('receiver_close', () =>
      this.end(new UpstreamConnectionError(`upstream closed the ${kind} link`, false)),
    );
    await opened(receiver, this.connection);
  }

  private listen(sender: Sender): void {
    const settle = (context: EventContext, error?: Error) => {
      const pending = this.inFlight.get(context.delivery!);
      if (!pending) return;
      this.inFlight.delete(context.delivery!);
      if (error) pending.reject(error);
      else pending.resolve();
    };
    sender.on('accepted', (context: EventContext) => settle(context));
    sender.on('rejected', (context: EventContext) => {
      const error = (context.delivery as unknown as { remote_state?: { error?: { description?: string } } })
        .remote_state?.error;
      settle(
        context,
        new UpstreamConnectionError(
          `upstream rejected the message: ${error?.description ?? 'no reason'}`,
          false,
        ),
      );
    });
    for (const outcome of ['released', 'modified'] as const)
      sender.on(outcome, (context: EventContext) =>
        settle(context, new UpstreamConnectionError(`upstream ${outcome} the message`, false)),
      );
    sender.on('sendable', () => this.flush(sender));
    sender.on('sender_close', () => this.end(new UpstreamConnectionError('upstream closed a link', false)));
  }

  /** Sends `message` on `sender` (once it has credit); resolves when the upstream settled it. */
  private transfer(sender: Sender, message: AmqpMessage): Promise<void> {
    if (this.ended) return Promise.reject(this.ended);
    return new Promise<void>((resolve, reject) => {
      let queue = this.queued.get(sender);
      if (!queue) this.queued.set(sender, (queue = []));
      queue.push({ message, pending: { resolve, reject } });
      this.flush(sender);
    });
  }

  private flush(sender: Sender): void {
    const queue = this.queued.get(sender);
    while (queue && queue.length > 0 && sender.sendable() && !this.ended) {
      const { message, pending } = queue.shift()!;
      const delivery = sender.send(message as never);
      // a link that settles on sending (the twin link) is done once sent
      if ((delivery as unknown as { settled?: boolean }).settled) pending.resolve();
      else this.inFlight.set(delivery, pending);
    }
  }

  private emit(topic: string, payload: Buffer): void {
    for (const listener of this.messageListeners) listener(topic, payload);
  }

  private twinMessage(message: AmqpMessage): void {
    const body = bodyBytes(message.body) ?? Buffer.alloc(0);
    const annotations = message.message_annotations ?? {};
    const correlationId = idText(message.correlation_id);
    if (correlationId === undefined) {
      const patch = parseJson(body) as { $version?: unknown } | undefined;
      const version = typeof patch?.$version === 'number' ? patch.$version : Number(annotations.version);
      this.emit(desiredPatchTopic(Number.isSafeInteger(version) ? version : 0), body);
      return;
    }
    const status = Number(annotations.status);
    const own = this.ownRequests.get(correlationId);
    if (own) {
      this.ownRequests.delete(correlationId);
      return own(status);
    }
    const version = Number(annotations.version);
    this.emit(
      twinResponseTopic(status, correlationId, Number.isSafeInteger(version) ? version : undefined),
      body,
    );
  }

  private methodRequest(message: AmqpMessage): void {
    const requestId = idText(message.correlation_id);
    const name = message.application_properties?.['IoThub-methodname'];
    if (requestId === undefined || typeof name !== 'string') return;
    this.emit(methodRequestTopic(name, requestId), bodyBytes(message.body) ?? Buffer.alloc(0));
  }

  private c2d(message: AmqpMessage): void {
    const id = identityId(this.identity);
    const received = inboundTelemetry({ id, deviceId: this.identity.deviceId }, message);
    if (!received) return;
    // the connection ids are the reader's own, not properties of the message
    const {
      connectionDeviceId: _device,
      connectionModuleId: _module,
      ...systemProperties
    } = received.systemProperties;
    this.emit(
      c2dTopic(this.identity.deviceId, { properties: received.properties, systemProperties }),
      received.body,
    );
  }

  close(reason = 'closed by the hub'): void {
    this.end(new UpstreamConnectionError(reason, false));
  }

  private end(error: UpstreamConnectionError): void {
    if (this.ended) return;
    this.ended = error;
    clearTimeout(this.renewTimer);
    for (const link of [...[...this.senders.values()].map(({ sender }) => sender), ...this.receivers]) {
      link.removeAllListeners();
      link.on('sender_error', () => undefined);
      link.on('receiver_error', () => undefined);
      if (link.is_open()) link.close();
    }
    for (const queue of this.queued.values()) for (const { pending } of queue) pending.reject(error);
    this.queued.clear();
    for (const pending of this.inFlight.values()) pending.reject(error);
    this.inFlight.clear();
    for (const listener of this.closeListeners.splice(0)) listener(error);
  }
}

function twinRequest(
  operation: string,
  correlationId: string,
  resource: string | undefined,
  body: Buffer,
): AmqpMessage {
  return {
    correlation_id: correlationId,
    message_annotations: resource === undefined ? { operation } : { operation, resource },
    body: dataSection(body),
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
