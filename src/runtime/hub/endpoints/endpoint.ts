import type { HubMessage } from '../../routing/message.js';
import type { DropReason, MessageStore } from './message-store.js';

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
  /** What the endpoint's store holds now (metrics and `iotedge system status`). */
  figures(): QueueFigures;
  close(): void;
}

export interface QueueFigures {
  /** Held and not yet acknowledged. */
  messages: number;
  bytes: number;
  /** ms since the epoch; undefined when nothing is held. */
  oldestEnqueuedAt: number | undefined;
  /** Sent again after a crash lost their acknowledgement. */
  duplicates: number;
}

export const figuresOf = (store: MessageStore): QueueFigures => ({
  messages: store.size,
  bytes: store.bytes,
  oldestEnqueuedAt: store.oldestEnqueuedAt,
  duplicates: store.duplicates,
});

/** Told what happens to messages at endpoints (the hub's metrics). */
export interface EndpointObserver {
  delivered(message: HubMessage, endpointId: string, priority: number, seconds: number): void;
  /** A message let go unsent: past its TTL, or the oldest held when the store was full. */
  dropped(message: HubMessage, reason: DropReason): void;
}

export const IGNORE_ENDPOINTS: EndpointObserver = { delivered: () => undefined, dropped: () => undefined };
