import { messageSize, type HubMessage } from '../../routing/message.js';
import type { EnqueueOptions } from './endpoint.js';
import type { DropReason, MessageStore, MessageStores, StoredMessage } from './message-store.js';
import { PriorityQueue } from './priority-queue.js';

/** The message store in memory: what it holds is lost with the process. */
export class MemoryMessageStore implements MessageStore {
  private readonly queue: PriorityQueue;
  /** Read and not yet acknowledged or given back. */
  private readonly out = new Set<StoredMessage>();
  private heldBytes = 0;
  readonly duplicates = 0;

  constructor(
    private readonly onDropped: (message: HubMessage, reason: DropReason) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.queue = new PriorityQueue(now, (entry) => this.drop(entry));
  }

  get size(): number {
    return this.queue.size + this.out.size;
  }

  get waiting(): number {
    return this.queue.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  get expired(): number {
    return this.queue.expired;
  }

  get oldestEnqueuedAt(): number | undefined {
    let oldest = this.queue.oldestEnqueuedAt;
    for (const entry of this.out)
      if (oldest === undefined || entry.enqueuedAt < oldest) oldest = entry.enqueuedAt;
    return oldest;
  }

  append(message: HubMessage, options: EnqueueOptions): Promise<void> {
    this.queue.push(message, options);
    this.heldBytes += messageSize(message);
    return Promise.resolve();
  }

  read(): StoredMessage | undefined {
    const entry = this.queue.take();
    if (entry) this.out.add(entry);
    return entry;
  }

  acknowledge(entry: StoredMessage): void {
    if (this.out.delete(entry)) this.heldBytes -= messageSize(entry.message);
  }

  giveBack(entry: StoredMessage): void {
    if (this.out.delete(entry)) this.queue.putBack(entry);
  }

  expire(now = this.now()): void {
    this.queue.dropExpired(now);
  }

  close(): void {}

  private drop(entry: StoredMessage): void {
    this.heldBytes -= messageSize(entry.message);
    this.onDropped(entry.message, 'ttl_expiry');
  }
}

/** Stores in memory (unit tests): nothing outlives the process, and no byte limit applies. */
export const memoryStores = (now?: () => number): MessageStores => ({
  open: (_endpointId, onDropped) => new MemoryMessageStore(onDropped, now),
  persistedEndpoints: () => [],
  limit: () => undefined,
});
