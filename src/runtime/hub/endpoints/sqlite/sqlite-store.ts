import type { HubMessage } from '../../../routing/message.js';
import type { EnqueueOptions } from '../endpoint.js';
import type { DropReason, MessageStore, StoredMessage } from '../message-store.js';
import type { Fifo, HeldMessage } from './fifo.js';

/** Expired messages dropped from one FIFO by one sweep at most (a long-stopped queue drains over several). */
const SWEEP_LIMIT = 10_000;

/** What the stores of one database do for each of them: commits, new FIFOs, the clock. */
export interface StoreOwner {
  append(store: SqliteMessageStore, message: HubMessage, options: EnqueueOptions): Promise<void>;
  createFifo(endpointId: string, priority: number): Fifo;
  /** A checkpoint moved: save it with the next commit. */
  changed(): void;
  now(): number;
}

/**
 * One endpoint's messages in the SQLite database: a FIFO per priority (highest first). Appends go
 * through the database's group commit; reads come from each FIFO's read-ahead in memory.
 */
export class SqliteMessageStore implements MessageStore {
  private readonly fifos = new Map<number, Fifo>();
  private ordered: Fifo[] = [];
  expired = 0;
  /** Oldest messages dropped because the store was full. */
  droppedFull = 0;
  onReadable: (() => void) | undefined;

  constructor(
    readonly endpointId: string,
    private readonly owner: StoreOwner,
    fifos: Fifo[],
    public onDropped: (message: HubMessage, reason: DropReason) => void,
  ) {
    for (const fifo of fifos) this.fifos.set(fifo.priority, fifo);
    this.order();
  }

  get size(): number {
    return this.sum((fifo) => fifo.count);
  }

  get waiting(): number {
    return this.sum((fifo) => fifo.waiting);
  }

  get bytes(): number {
    return this.sum((fifo) => fifo.bytes);
  }

  get duplicates(): number {
    return this.sum((fifo) => fifo.duplicates);
  }

  get oldestEnqueuedAt(): number | undefined {
    let oldest: number | undefined;
    for (const fifo of this.ordered) {
      const at = fifo.oldestEnqueuedAt();
      if (at !== undefined && (oldest === undefined || at < oldest)) oldest = at;
    }
    return oldest;
  }

  /** Every FIFO of this endpoint, highest priority first. */
  get queues(): readonly Fifo[] {
    return this.ordered;
  }

  append(message: HubMessage, options: EnqueueOptions): Promise<void> {
    return this.owner.append(this, message, options);
  }

  /** The FIFO of a priority, made (and saved) the first time. */
  fifo(priority: number): Fifo {
    let fifo = this.fifos.get(priority);
    if (!fifo) {
      fifo = this.owner.createFifo(this.endpointId, priority);
      this.fifos.set(priority, fifo);
      this.order();
    }
    return fifo;
  }

  read(): StoredMessage | undefined {
    const now = this.owner.now();
    for (const fifo of this.ordered) {
      for (let next = fifo.peek(); next; next = fifo.peek()) {
        if (next.expiresAt > now) {
          // the read mark (what a crash would make a duplicate) is saved with the next commit
          this.owner.changed();
          return fifo.take();
        }
        this.drop(fifo, 'ttl_expiry');
      }
    }
    return undefined;
  }

  acknowledge(entry: StoredMessage): void {
    if (this.fifos.get(entry.priority)?.consume(entry as HeldMessage)) this.owner.changed();
  }

  giveBack(entry: StoredMessage): void {
    this.fifos.get(entry.priority)?.giveBack(entry as HeldMessage);
  }

  expire(now = this.owner.now()): void {
    for (const fifo of this.ordered) {
      for (let dropped = 0; dropped < SWEEP_LIMIT; dropped++) {
        const next = fifo.peek();
        if (!next || next.expiresAt > now) break;
        this.drop(fifo, 'ttl_expiry');
      }
    }
  }

  /** Drops the next unread message of `fifo` (the owner's choice when the store is full). */
  drop(fifo: Fifo, reason: DropReason): HeldMessage | undefined {
    const entry = fifo.dropHead();
    if (!entry) return undefined;
    if (reason === 'ttl_expiry') this.expired++;
    else this.droppedFull++;
    this.owner.changed();
    this.onDropped(entry.message, reason);
    return entry;
  }

  /** The database closes with all the stores (SqliteMessageStores.close). */
  close(): void {}

  private order(): void {
    this.ordered = [...this.fifos.values()].sort((a, b) => a.priority - b.priority);
  }

  private sum(of: (fifo: Fifo) => number): number {
    let total = 0;
    for (const fifo of this.ordered) total += of(fifo);
    return total;
  }
}
