import type { HubMessage } from '../../routing/message.js';
import type { EnqueueOptions } from './endpoint.js';

/** A message an endpoint holds, with what the store stamped on it when it came in. */
export interface StoredMessage {
  readonly message: HubMessage;
  readonly priority: number;
  /** ms since the epoch. */
  readonly enqueuedAt: number;
  /** ms since the epoch after which the message is dropped instead of sent. */
  readonly expiresAt: number;
  /** The position of the message in its endpoint's log: increasing in the order messages came in. */
  readonly offset: number;
}

/**
 * What an endpoint keeps its messages in until their receiver has acknowledged them: one FIFO per
 * priority, the highest priority (lowest number) read first. Reading a message does not remove it;
 * the delivery acknowledges it (gone for good) or gives it back (back at the head of its priority,
 * in the order it came in: a store with a read position per priority moves that position back). TTL is stamped at append time, so a later route change does not touch
 * messages already held. The in-memory store is the one implementation today; a durable one (a
 * database under the daemon's homedir) plugs in behind the same interface.
 */
export interface MessageStore {
  /** Resolves once the store holds the message, so the sender may be acknowledged. */
  append(message: HubMessage, options: EnqueueOptions): Promise<void>;
  /** The next message to deliver, expired ones dropped on the way; undefined when none is waiting. */
  read(): StoredMessage | undefined;
  /** The receiver has the message: the store lets it go. */
  acknowledge(entry: StoredMessage): void;
  /** The delivery failed: the message is read again before the newer ones of its priority. */
  giveBack(entry: StoredMessage): void;
  /** Drops the expired messages that wait at the head of each priority. */
  expire(now?: number): void;
  /** Messages held and not yet acknowledged (read ones included). */
  readonly size: number;
  /** Messages waiting to be read. */
  readonly waiting: number;
  /** Bytes of the bodies held. */
  readonly bytes: number;
  /** Messages dropped at their TTL since the store was made. */
  readonly expired: number;
  close(): void;
}

/** Makes the store of one endpoint; `onExpired` hears of each message dropped at its TTL. */
export type MessageStoreFactory = (
  endpointId: string,
  onExpired: (message: HubMessage) => void,
) => MessageStore;
