import type { ClientIdentity, ClientLink, Subscription } from '../connections.js';
import { HubRequestError } from '../hub-request-error.js';
import { messageSize, type HubMessage } from '../../routing/message.js';
import { reportedPatchError, TwinPatchError } from '../twin/reported-validation.js';
import type { JsonObject } from '../twin-store.js';
import type { ClientProxy } from './client-proxy.js';
import { watchExpiry } from './token-expiry.js';

/** IoT Hub's answer to a twin request: status, and the body and version it carries. */
export interface TwinReply {
  status: number;
  body?: unknown;
  version?: number;
}

/** What a session needs of the hub core. */
export interface SessionCore {
  readonly maxMessageBytes: number;
  /** The subscriptions kept for a session id (empty, and not kept, for a clean session). */
  sessionSubscriptions(sessionId: string, clean: boolean): Set<Subscription>;
  /** Resolves once a persistent session's subscriptions are saved. */
  saveSession(sessionId: string): Promise<void>;
  connected(link: ClientLink): void;
  disconnected(link: ClientLink): void;
  subscriptionsChanged(identityId: string): void;
  telemetry(message: HubMessage): Promise<number>;
  getTwin(identity: ClientIdentity): { desired: JsonObject; reported: JsonObject };
  /** What a twin read waits for first (the identity's twin being read upstream), if anything. */
  whenTwinCurrent(identityId: string): Promise<void> | undefined;
  patchReported(identity: ClientIdentity, patch: JsonObject): Promise<number>;
  answerMethod(identityId: string, requestId: string, status: number, payload: Buffer): void;
  log(line: string): void;
}

export interface SessionOptions {
  /** The protocol's session id (the MQTT client id), under which a persistent session is kept. */
  sessionId: string;
  /** A clean session starts empty and is not kept. */
  clean: boolean;
  /** When the SAS token the client authenticated with expires (none for a certificate). */
  expiresAt?: Date;
  /** How the client connected, as the SDKs name it: `MQTT`, `MQTT-WS`, `AMQP`, `AMQP-WS`. */
  protocol?: string;
}

const SUBSCRIPTION_LOG: Record<Subscription, string> = {
  inputs: 'module inputs',
  c2d: 'cloud-to-device messages',
  desired: 'desired property updates',
  methods: 'direct methods',
  'twin-responses': 'twin responses',
};

/**
 * One authenticated client connection as the hub core serves it (edgeHub's IDeviceListener):
 * every protocol head turns its wire into these calls, and gives the session a ClientProxy to
 * send back through. The rules live here once: subscriptions and their persistence, the size
 * limit, reported-patch validation and IoT Hub's error codes, token expiry.
 */
export class DeviceSession {
  private readonly subscriptions: Set<Subscription>;
  private link: ClientLink | undefined;
  private stopExpiryWatch: (() => void) | undefined;
  /** Ends the attached connection because its token expired. */
  private expiryClose: (() => void) | undefined;

  constructor(
    private readonly core: SessionCore,
    readonly identity: ClientIdentity,
    private readonly options: SessionOptions,
  ) {
    this.subscriptions = core.sessionSubscriptions(options.sessionId, options.clean);
  }

  /** What the client is subscribed to (a persistent session's survive reconnects). */
  get subscribed(): ReadonlySet<Subscription> {
    return this.subscriptions;
  }

  /**
   * The client is ready to receive: from now on the hub delivers to it through `proxy`. A client
   * that authenticated with a SAS token is disconnected when the token expires, as IoT Hub does;
   * the SDKs connect again with a new one before that.
   */
  attach(proxy: ClientProxy): void {
    const { identity } = this;
    const link: ClientLink = {
      identity,
      ...(this.options.protocol ? { protocol: this.options.protocol } : {}),
      connectedAt: new Date(),
      subscriptions: this.subscriptions,
      deliverInput: (inputName, message) => proxy.deliverInput(inputName, message),
      deliverC2D: (message) => proxy.deliverC2D(message),
      sendDesiredPatch: (patch, version) => proxy.sendDesiredPatch(patch, version),
      sendMethodRequest: (method, requestId, payload) => proxy.sendMethodRequest(method, requestId, payload),
      close: (reason = 'replaced') => proxy.close(reason),
    };
    this.link = link;
    this.core.connected(link);
    this.expiryClose = () => proxy.close('expired');
    const { expiresAt } = this.options;
    if (expiresAt !== undefined) this.renew(expiresAt);
  }

  /**
   * The client presented a new token for this identity on the same connection (AMQP's put-token
   * refresh): the session now ends when that one expires.
   */
  renew(expiresAt: Date): void {
    const proxyClose = this.expiryClose;
    if (!this.link || !proxyClose) return;
    this.stopExpiryWatch?.();
    this.stopExpiryWatch = watchExpiry(expiresAt, () => {
      this.core.log(
        `hub: ${this.identity.id}: SAS token expired at ${expiresAt.toISOString()}: disconnected`,
      );
      proxyClose();
    });
  }

  /** The connection is gone (whatever ended it). */
  detach(): void {
    this.stopExpiryWatch?.();
    this.stopExpiryWatch = undefined;
    this.expiryClose = undefined;
    const link = this.link;
    if (!link) return;
    this.link = undefined;
    this.core.disconnected(link);
  }

  /** Telemetry or a module output; resolves once every endpoint holds it (then acknowledge it). */
  send(message: HubMessage): Promise<number> {
    const size = messageSize(message);
    if (size > this.core.maxMessageBytes) {
      return Promise.reject(
        new HubRequestError(
          413,
          `message of ${size} bytes is over the ${this.core.maxMessageBytes}-byte limit`,
        ),
      );
    }
    return this.core.telemetry(message);
  }

  /**
   * Resolves true once the subscription holds (a persistent session's is on disk first: the SDK
   * never subscribes again after a restart), false when it could not be saved.
   */
  async subscribe(kind: Subscription): Promise<boolean> {
    const { subscriptions, identity } = this;
    if (subscriptions.has(kind)) {
      this.changed();
      return true;
    }
    subscriptions.add(kind);
    this.changed();
    try {
      await this.core.saveSession(this.options.sessionId);
    } catch (error) {
      subscriptions.delete(kind);
      this.changed();
      this.core.log(
        `hub: ${identity.id}: subscription to ${SUBSCRIPTION_LOG[kind]} refused: ${(error as Error).message}`,
      );
      return false;
    }
    this.core.log(`hub: ${identity.id} subscribed to ${SUBSCRIPTION_LOG[kind]}`);
    return true;
  }

  unsubscribe(kinds: readonly Subscription[]): void {
    for (const kind of kinds) this.subscriptions.delete(kind);
    void this.core.saveSession(this.options.sessionId).catch(() => undefined);
    this.changed();
  }

  async getTwin(): Promise<TwinReply> {
    const current = this.core.whenTwinCurrent(this.identity.id);
    if (current) await current;
    return { status: 200, body: this.core.getTwin(this.identity) };
  }

  /** A reported-properties patch (JSON text), answered as IoT Hub answers it. */
  async patchReported(body: Buffer): Promise<TwinReply> {
    if (body.length > this.core.maxMessageBytes)
      return { status: 413, body: { errorCode: 413001, message: 'the patch is too large' } };
    let patch: unknown;
    try {
      patch = JSON.parse(body.toString('utf8'));
    } catch {
      patch = undefined;
    }
    const problem = patch === undefined ? 'the body is not JSON' : reportedPatchError(patch)?.message;
    if (problem !== undefined) return { status: 400, body: { errorCode: 400004, message: problem } };
    try {
      return { status: 204, version: await this.core.patchReported(this.identity, patch as JsonObject) };
    } catch (error) {
      // too large a twin: refused as IoT Hub refuses an invalid body, the twin unchanged
      if (error instanceof TwinPatchError) return { status: error.status, body: error.body() };
      // IoT Hub's status and error code (503001: try again later; 500001: server error)
      const status = error instanceof HubRequestError ? error.status : 500;
      return { status, body: { errorCode: status * 1000 + 1, message: (error as Error).message } };
    }
  }

  /** The client's answer to a direct method request it received. */
  answerMethod(requestId: string, status: number, payload: Buffer): void {
    this.core.answerMethod(this.identity.id, requestId, status, payload);
  }

  private changed(): void {
    if (this.link) this.core.subscriptionsChanged(this.identity.id);
  }
}
