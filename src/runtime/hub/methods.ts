import type { ConnectionRegistry } from './connections.js';
import { HubRequestError } from './hub-request-error.js';

export interface MethodCall {
  methodName: string;
  payload: unknown;
  /** IoT Hub's defaults: 30 s for the response, 0 s to wait for the target to connect. */
  responseTimeoutInSeconds?: number;
  connectTimeoutInSeconds?: number;
}

export interface MethodResult {
  status: number;
  payload: unknown;
}

/** An identity served inside the daemon (the agent's `$edgeAgent`): it answers methods itself. */
export type InProcessMethodHandler = (methodName: string, payload: unknown) => Promise<MethodResult>;

interface Pending {
  target: string;
  resolve(result: MethodResult): void;
  timer: NodeJS.Timeout;
}

const MAX_TIMEOUT_SECS = 300;

/**
 * Direct methods to connected modules and devices: correlates each request with its response by
 * request id, and answers 404 when the target is not there to take it, 504 when it does not answer
 * in time. Identities served in-process answer through their handler, before any connection.
 */
export class MethodDispatcher {
  private readonly pending = new Map<string, Pending>();
  private readonly inProcess = new Map<string, InProcessMethodHandler>();
  private counter = 0;

  constructor(private readonly connections: ConnectionRegistry) {}

  async invoke(target: string, call: MethodCall): Promise<MethodResult> {
    const responseSecs = call.responseTimeoutInSeconds ?? 30;
    const connectSecs = call.connectTimeoutInSeconds ?? 0;
    for (const [name, value] of [
      ['responseTimeoutInSeconds', responseSecs],
      ['connectTimeoutInSeconds', connectSecs],
    ] as const) {
      if (!Number.isFinite(value) || value < 0 || value > MAX_TIMEOUT_SECS)
        throw new HubRequestError(400, `${name} must be between 0 and ${MAX_TIMEOUT_SECS}`);
    }
    if (typeof call.methodName !== 'string' || call.methodName === '')
      throw new HubRequestError(400, 'methodName must be a non-empty string');
    const handler = this.inProcess.get(target);
    if (handler) return this.answerInProcess(target, call, handler, responseSecs);
    const link = await this.listening(target, connectSecs * 1000);
    if (!link) throw new HubRequestError(404, `${target} is not connected or not listening for methods`);
    const requestId = (++this.counter).toString(16);
    const payload = Buffer.from(JSON.stringify(call.payload ?? null));
    return new Promise<MethodResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(
          new HubRequestError(504, `${target} did not answer ${call.methodName} within ${responseSecs} s`),
        );
      }, responseSecs * 1000);
      this.pending.set(requestId, { target, resolve, timer });
      link.sendMethodRequest(call.methodName, requestId, payload);
    });
  }

  /** `identityId`'s methods are answered by `handler` from now on; the returned function stops that. */
  serve(identityId: string, handler: InProcessMethodHandler): () => void {
    this.inProcess.set(identityId, handler);
    return () => {
      if (this.inProcess.get(identityId) === handler) this.inProcess.delete(identityId);
    };
  }

  /** The handler's answer (500 with its message when it fails), or 504 when it takes too long. */
  private answerInProcess(
    target: string,
    call: MethodCall,
    handler: InProcessMethodHandler,
    responseSecs: number,
  ): Promise<MethodResult> {
    return new Promise<MethodResult>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new HubRequestError(504, `${target} did not answer ${call.methodName} within ${responseSecs} s`),
          ),
        responseSecs * 1000,
      );
      handler(call.methodName, call.payload ?? null)
        .catch((error: Error) => ({ status: 500, payload: { message: error.message } }))
        .then((result) => {
          clearTimeout(timer);
          resolve(result);
        });
    });
  }

  /** A response from `from`; ignored unless it answers a request sent to that same identity. */
  respond(from: string, requestId: string, status: number, body: Buffer): void {
    const pending = this.pending.get(requestId);
    if (!pending || pending.target !== from) return;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    let payload: unknown = null;
    if (body.length > 0) {
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        payload = body.toString('utf8');
      }
    }
    pending.resolve({ status, payload });
  }

  private listening(target: string, waitMs: number) {
    const now = this.connections.get(target);
    if (now?.subscriptions.has('methods') || waitMs === 0)
      return Promise.resolve(now?.subscriptions.has('methods') ? now : undefined);
    return new Promise<typeof now>((resolve) => {
      const done = (link: typeof now) => {
        clearTimeout(timer);
        unwatch();
        resolve(link);
      };
      const unwatch = this.connections.watch(target, () => {
        const link = this.connections.get(target);
        if (link?.subscriptions.has('methods')) done(link);
      });
      const timer = setTimeout(() => done(undefined), waitMs);
    });
  }

  close(): void {
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    this.pending.clear();
  }
}
