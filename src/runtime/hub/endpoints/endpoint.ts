import type { HubMessage } from '../../routing/message.js';

export interface EnqueueOptions {
  /** 0 is the highest; lower numbers are always sent first. */
  priority: number;
  timeToLiveSecs: number;
}

/**
 * Where routed messages go: a module input, or upstream. enqueue resolves once the endpoint holds
 * the message, so that the sender may be acknowledged; delivery happens later, at the endpoint's
 * pace. The durable message store sits behind this same interface.
 */
export interface Endpoint {
  readonly id: string;
  enqueue(message: HubMessage, options: EnqueueOptions): Promise<void>;
  /** Messages held and not yet acknowledged by the receiver. */
  readonly pending: number;
  close(): void;
}

/** Told what happens to messages at endpoints (the hub's metrics). */
export interface EndpointObserver {
  delivered(message: HubMessage, endpointId: string, priority: number, seconds: number): void;
  expired(message: HubMessage): void;
}

export const IGNORE_ENDPOINTS: EndpointObserver = { delivered: () => undefined, expired: () => undefined };
