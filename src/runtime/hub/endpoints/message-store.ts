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

/** Why a store let a message go without its receiver having it. */
export type DropReason = 'ttl_expiry' | 'store_full';

/**
 * What an endpoint keeps its messages in until their receiver has acknowledged them: one FIFO per
 * priority, the highest priority (lowest number) read first. Reading a message does not remove it;
 * the delivery acknowledges it (gone for good) or gives it back (back at the head of its priority,
 * in the order it came in: a store with a read position per priority moves that position back).
 * TTL is stamped at append time, so a later route change does not touch messages already held.
 * Two implementations: in memory (tests) and SQLite (iotedged: a database under its homedir).
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
  /** Bytes of the messages held (body plus property names and values, as IoT Hub's size limit counts). */
  readonly bytes: number;
  /** When the oldest message held came in (ms since the epoch); undefined when none is held. */
  readonly oldestEnqueuedAt: number | undefined;
  /** Messages dropped at their TTL since the store was made. */
  readonly expired: number;
  /** Messages sent again because a crash lost their acknowledgement (0 for a store that cannot tell). */
  readonly duplicates: number;
  /**
   * Set by the store's reader: called when messages became readable without an append resolving
   * (the durable store hands messages out once written, before the sync that acknowledges them).
   */
  onReadable?: () => void;
  close(): void;
}

/** The deployment's limit on what the stores hold together (`storeAndForwardConfiguration.storeLimits`). */
export interface StoreLimits {
  /** No limit when undefined. */
  maxSizeBytes?: number;
  /** At the limit: refuse the new message (its sender is not acknowledged), or drop the oldest held. */
  fullPolicy: 'refuse' | 'dropOldest';
}

/** The stores of every endpoint of one hub. */
export interface MessageStores {
  /** The store of one endpoint; `onDropped` hears of each message let go unsent. */
  open(endpointId: string, onDropped: (message: HubMessage, reason: DropReason) => void): MessageStore;
  /** Endpoints holding messages from before this process started (a durable store after a restart). */
  persistedEndpoints(): string[];
  /** Applies the deployment's limits from now on. */
  limit(limits: StoreLimits): void;
}
