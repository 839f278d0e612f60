import type { StoredMessage } from '../message-store.js';

/** A stored message with the bytes it counts against the store's limit. */
export interface HeldMessage extends StoredMessage {
  readonly size: number;
}

/** What the database says of one FIFO when the store opens. */
export interface FifoState {
  /** Everything at or below this offset was acknowledged (or expired, or dropped). */
  checkpoint: number;
  /** The highest offset ever handed to a delivery, as last saved. */
  readMark: number;
  /** The highest offset the FIFO holds; the checkpoint when it holds none. */
  lastOffset: number;
  /** Messages held past the checkpoint, and their bytes. */
  count: number;
  bytes: number;
}

/**
 * One FIFO (an endpoint's messages of one priority) of the durable store, as it is in memory: a
 * read-ahead of the next messages to deliver (at most `readAhead` of them, loaded from the
 * database in batches, so a long queue stays on disk), the messages read and not yet acknowledged,
 * and the checkpoint: the offset below the oldest message still held, saved with the next commit.
 * Messages come in only through `committed` (once the database holds them) and leave through
 * `consume` (acknowledged) or `dropHead` (expired, or dropped at the store's limit).
 */
export class Fifo {
  private buffer: HeldMessage[] = [];
  private head = 0;
  /** Every message at or below this offset is in memory (buffer or outstanding) or gone. */
  private loadedThrough: number;
  private lastOffset: number;
  private readonly outstanding = new Map<number, HeldMessage>();
  /** Offsets consumed while an older message was still held: deleted one by one with the next commit. */
  private consumedAhead: number[] = [];
  /** A message at or below it may have been delivered before the last crash: its delivery is a duplicate. */
  private readonly restoredReadMark: number;
  private duplicatesCountedThrough: number;
  count: number;
  bytes: number;
  waiting: number;
  readMark: number;
  /** The checkpoint and read mark the database holds. */
  saved: { checkpoint: number; readMark: number };
  duplicates = 0;

  constructor(
    readonly id: number,
    readonly priority: number,
    state: FifoState,
    /** Up to `limit` messages of this FIFO after `offset` and up to `through`, in order. */
    private readonly load: (offset: number, through: number, limit: number) => HeldMessage[],
    private readonly readAhead: number,
  ) {
    this.loadedThrough = state.checkpoint;
    this.lastOffset = state.lastOffset;
    this.count = state.count;
    this.bytes = state.bytes;
    this.waiting = state.count;
    this.readMark = state.readMark;
    this.restoredReadMark = state.readMark;
    this.duplicatesCountedThrough = state.checkpoint;
    this.saved = { checkpoint: state.checkpoint, readMark: state.readMark };
  }

  /**
   * The message is handed to the database: it waits at the tail (in memory while the read-ahead
   * has room; past it, read from the database once the read-ahead ran dry).
   */
  committed(entry: HeldMessage): void {
    if (this.loadedThrough === this.lastOffset && this.buffer.length - this.head < this.readAhead) {
      this.buffer.push(entry);
      this.loadedThrough = entry.offset;
    }
    this.lastOffset = entry.offset;
    this.count++;
    this.bytes += entry.size;
    this.waiting++;
  }

  /** The next message to read, loaded from the database when the read-ahead ran dry. */
  peek(): HeldMessage | undefined {
    if (this.head < this.buffer.length) return this.buffer[this.head];
    if (this.loadedThrough >= this.lastOffset) return undefined;
    // only what the FIFO was told is committed: a later commit's rows may be in the file already
    const rows = this.load(this.loadedThrough, this.lastOffset, this.readAhead);
    this.buffer = rows;
    this.head = 0;
    this.loadedThrough = rows.length < this.readAhead ? this.lastOffset : rows[rows.length - 1]!.offset;
    return rows[0];
  }

  /** Reads the next message: it stays held until it is consumed or given back. */
  take(): HeldMessage | undefined {
    const entry = this.peek();
    if (!entry) return undefined;
    this.advance();
    this.outstanding.set(entry.offset, entry);
    if (entry.offset > this.readMark) this.readMark = entry.offset;
    if (entry.offset <= this.restoredReadMark && entry.offset > this.duplicatesCountedThrough) {
      this.duplicates++;
      this.duplicatesCountedThrough = entry.offset;
    }
    return entry;
  }

  /** A read message is acknowledged: it is gone. False when it was not out (already consumed). */
  consume(entry: HeldMessage): boolean {
    if (!this.outstanding.delete(entry.offset)) return false;
    this.consumedAhead.push(entry.offset);
    this.count--;
    this.bytes -= entry.size;
    return true;
  }

  /** A read message goes back before the unread ones, in offset order. */
  giveBack(entry: HeldMessage): void {
    if (!this.outstanding.delete(entry.offset)) return;
    let at = this.head;
    while (at < this.buffer.length && this.buffer[at]!.offset < entry.offset) at++;
    this.buffer.splice(at, 0, entry);
    this.waiting++;
  }

  /**
   * A message whose commit failed (it is not in the database): let go unless it was read already
   * (then its acknowledgement consumes it as any other). One past the read-ahead is not found by
   * the read that would have loaded it.
   */
  forget(entry: HeldMessage): void {
    if (this.outstanding.has(entry.offset)) return;
    let at = -1;
    if (entry.offset <= this.loadedThrough) {
      at = this.buffer.indexOf(entry, this.head);
      if (at < 0) return; // consumed or dropped already
      this.buffer.splice(at, 1);
    }
    this.count--;
    this.bytes -= entry.size;
    this.waiting--;
  }

  /** Lets the next unread message go unsent (expired, or the oldest when the store is full). */
  dropHead(): HeldMessage | undefined {
    const entry = this.peek();
    if (!entry) return undefined;
    this.advance();
    this.consumedAhead.push(entry.offset);
    this.count--;
    this.bytes -= entry.size;
    return entry;
  }

  /** Past the head message; the read part of the buffer is let go once it is half of it. */
  private advance(): void {
    this.head++;
    this.waiting--;
    if (this.head === this.buffer.length) {
      this.buffer = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.buffer.length) {
      this.buffer = this.buffer.slice(this.head);
      this.head = 0;
    }
  }

  /** The offset up to which every message is gone: one below the oldest still held. */
  checkpoint(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const offset of this.outstanding.keys()) if (offset < lowest) lowest = offset;
    if (this.head < this.buffer.length) lowest = Math.min(lowest, this.buffer[this.head]!.offset);
    else if (this.loadedThrough < this.lastOffset) lowest = Math.min(lowest, this.loadedThrough + 1);
    return lowest === Number.POSITIVE_INFINITY ? this.lastOffset : lowest - 1;
  }

  /**
   * The offsets consumed above `checkpoint` (acknowledged out of order) that the database still
   * holds; they are forgotten here, the caller deletes them. Those at or below it go with the cleanup.
   */
  get consumedSinceCommit(): boolean {
    return this.consumedAhead.length > 0;
  }

  takeConsumedAbove(checkpoint: number): number[] {
    const above = this.consumedAhead.filter((offset) => offset > checkpoint);
    this.consumedAhead = [];
    return above;
  }

  /** When the oldest message held came in; undefined when none is. */
  oldestEnqueuedAt(): number | undefined {
    let oldest = this.peek()?.enqueuedAt;
    for (const entry of this.outstanding.values())
      if (oldest === undefined || entry.enqueuedAt < oldest) oldest = entry.enqueuedAt;
    return oldest;
  }
}
