import {
  classifyDownstream,
  downstreamFilters,
  methodResponseTopic,
  reportedPatchTopic,
  twinGetTopic,
} from '../mqtt/topics.js';
import { applyDesiredPatch, asTwinDocument, type TwinDocument } from '../twin/twin-document.js';
import { isTwinObject, type TwinObject } from '../twin/twin-json.js';
import { UpstreamConnectionError, type UpstreamChannel } from './upstream-connection.js';
import { identityId, type UpstreamIdentity } from './upstream-wire.js';

/** What a direct method from upstream is answered with. */
export interface MethodAnswer {
  status: number;
  payload: Buffer;
}

/** A method request's payload from upstream as JSON (null when empty, the text when not JSON). */
export function methodPayload(payload: Buffer): unknown {
  if (payload.length === 0) return null;
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return payload.toString('utf8');
  }
}

/** A method's status and JSON payload as the answer sent upstream. */
export function methodAnswer(result: { status: number; payload: unknown }): MethodAnswer {
  return { status: result.status, payload: Buffer.from(JSON.stringify(result.payload ?? null)) };
}

/** A cloud-to-device message from upstream. */
export interface DownstreamMessage {
  body: Buffer;
  properties: Record<string, string>;
  systemProperties: Record<string, string | undefined>;
}

export interface ManagedChannelEvents {
  /** After every (re)connect: the whole twin as upstream holds it. */
  connected?(twin: TwinDocument): void;
  /** The desired properties changed upstream (after a connect, or a patch): the whole document. */
  desired?(desired: TwinDocument['desired']): void;
  /** A direct method for this identity; answered upstream with what it resolves to. */
  method?(methodName: string, payload: Buffer): Promise<MethodAnswer>;
  /** A cloud-to-device message for this device. */
  c2d?(message: DownstreamMessage): Promise<void>;
}

/** A twin request upstream answered with a status other than 2xx. */
export class TwinRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

interface PendingRequest {
  resolve(answer: { status: number; version?: number; body: Buffer }): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * One identity that must hear from upstream (a twin's desired properties, direct methods,
 * cloud-to-device messages) and report to it, as a device speaks IoT Hub's MQTT protocol: it
 * subscribes to the twin responses, desired patches, methods (and, for a device, its cloud-to-device
 * messages), then reads its whole twin again on every connection, since desired properties may have
 * changed while it was away. It outlives connections: the upstream link attaches it to each new one.
 */
export class ManagedChannel {
  readonly id: string;
  private connection: UpstreamChannel | undefined;
  private twin: TwinDocument | undefined;
  private readonly requests = new Map<string, PendingRequest>();
  private counter = 0;

  constructor(
    readonly identity: UpstreamIdentity,
    private readonly events: ManagedChannelEvents,
    private readonly log: (line: string) => void,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {
    this.id = identityId(identity);
  }

  /** Whether a connection is attached and its twin was read. */
  get online(): boolean {
    return this.connection !== undefined && this.twin !== undefined;
  }

  /** The desired properties last heard from upstream (undefined before the first connection). */
  get desired(): TwinDocument['desired'] | undefined {
    return this.twin?.desired;
  }

  /** Starts using `connection`: subscribes, then reads the whole twin. Rejects when either fails. */
  async attach(connection: UpstreamChannel): Promise<void> {
    this.detach('replaced by a new connection');
    this.connection = connection;
    connection.onMessage((topic, payload) => {
      if (this.connection === connection) this.receive(topic, payload);
    });
    connection.onClose((error) => {
      if (this.connection === connection) this.detach(error.message);
    });
    await connection.subscribe(downstreamFilters(this.identity));
    const twin = await this.getTwin();
    if (this.connection !== connection) return;
    this.twin = twin;
    this.events.connected?.(twin);
    this.events.desired?.(twin.desired);
  }

  /** The connection is gone: requests waiting for an answer fail. */
  detach(reason: string): void {
    this.connection = undefined;
    this.twin = undefined;
    for (const [rid, request] of this.requests) {
      clearTimeout(request.timer);
      request.reject(new UpstreamConnectionError(reason, false));
      this.requests.delete(rid);
    }
  }

  /** The whole twin, read from upstream. */
  async getTwin(): Promise<TwinDocument> {
    const answer = await this.request(twinGetTopic, Buffer.alloc(0));
    const twin = asTwinDocument(parseJson(answer.body));
    if (!twin) throw new TwinRequestError(`${this.id}: upstream sent a twin that is not one`, 500);
    return twin;
  }

  /** Sends a reported patch; resolves with the new reported version upstream. */
  async patchReported(patch: TwinObject): Promise<number | undefined> {
    const answer = await this.request(reportedPatchTopic, Buffer.from(JSON.stringify(patch)));
    return answer.version;
  }

  private async request(
    topicFor: (requestId: string) => string,
    body: Buffer,
  ): Promise<{ status: number; version?: number; body: Buffer }> {
    const connection = this.connection;
    if (!connection) throw new UpstreamConnectionError(`${this.id} is not connected upstream`, false);
    const requestId = `${++this.counter}`;
    const answer = new Promise<{ status: number; version?: number; body: Buffer }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(requestId);
        reject(
          new UpstreamConnectionError(
            `${this.id}: upstream did not answer within ${this.timeoutMs} ms`,
            false,
          ),
        );
      }, this.timeoutMs);
      this.requests.set(requestId, { resolve, reject, timer });
    });
    // a connection that ends while the publish is still under way fails the request before anyone
    // awaits its answer: that rejection is seen below, never left unhandled
    answer.catch(() => undefined);
    try {
      await connection.publish(topicFor(requestId), body);
    } catch (error) {
      const pending = this.requests.get(requestId);
      if (pending) clearTimeout(pending.timer);
      this.requests.delete(requestId);
      throw error;
    }
    const result = await answer;
    if (result.status < 200 || result.status > 299)
      throw new TwinRequestError(
        `${this.id}: upstream answered ${result.status}: ${result.body.toString('utf8').slice(0, 200)}`,
        result.status,
      );
    return result;
  }

  private receive(topic: string, payload: Buffer): void {
    const inbound = classifyDownstream(topic);
    switch (inbound.kind) {
      case 'twin-response': {
        const pending = this.requests.get(inbound.requestId);
        if (!pending) return;
        this.requests.delete(inbound.requestId);
        clearTimeout(pending.timer);
        pending.resolve({
          status: inbound.status,
          ...(inbound.version === undefined ? {} : { version: inbound.version }),
          body: payload,
        });
        return;
      }
      case 'desired-patch':
        this.desiredPatch(payload, inbound.version);
        return;
      case 'method-request':
        void this.method(inbound.methodName, inbound.requestId, payload);
        return;
      case 'c2d':
        if (!this.events.c2d) return;
        this.events
          .c2d({ body: payload, properties: inbound.properties, systemProperties: inbound.systemProperties })
          .catch((error: Error) =>
            this.log(
              `hub: upstream: ${this.id}: a cloud-to-device message was not delivered: ${error.message}`,
            ),
          );
        return;
      default:
        this.log(`hub: upstream: ${this.id}: ignored ${inbound.reason}`);
    }
  }

  /** A desired patch: merged into the twin unless the twin read on connecting already holds it. */
  private desiredPatch(payload: Buffer, topicVersion: number | undefined): void {
    const patch = parseJson(payload);
    if (!this.twin || !isTwinObject(patch)) return;
    const version = typeof patch.$version === 'number' ? patch.$version : topicVersion;
    if (version !== undefined && version <= this.twin.desired.$version) return;
    this.twin = applyDesiredPatch(this.twin, version === undefined ? patch : { ...patch, $version: version });
    this.events.desired?.(this.twin.desired);
  }

  private async method(methodName: string, requestId: string, payload: Buffer): Promise<void> {
    const connection = this.connection;
    let answer: MethodAnswer;
    try {
      answer = this.events.method
        ? await this.events.method(methodName, payload)
        : { status: 404, payload: Buffer.from(JSON.stringify({ message: `${this.id} takes no methods` })) };
    } catch (error) {
      answer = { status: 500, payload: Buffer.from(JSON.stringify({ message: (error as Error).message })) };
    }
    await connection
      ?.publish(methodResponseTopic(answer.status, requestId), answer.payload)
      .catch((error: Error) =>
        this.log(`hub: upstream: ${this.id}: method answer not sent: ${error.message}`),
      );
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
