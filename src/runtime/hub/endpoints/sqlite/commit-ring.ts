import { Buffer } from 'node:buffer';

import type { MessageRow } from './row-batch.js';
import type { CheckpointSave } from './worker-protocol.js';

/** One commit as it crosses the ring: new messages, moved checkpoints, messages consumed above them. */
export interface RingCommit {
  id: number;
  rows: MessageRow[];
  queues: CheckpointSave[];
  consumed: number[];
}

/** The ring's numbers are little-endian, the byte order of the machines the runtime runs on (no swapping). */
const LE = true;
/** Control words: bytes written and bytes read so far (wrapping 32-bit counts), the reader's idle flag. */
const WRITTEN = 0;
const READ = 1;
const IDLE = 2;
const CONTROL_BYTES = 16;
/** A record's length word that says: the rest of the ring up to its end is unused, go on at its start. */
const WRAP = 0xffffffff;
/** Bytes of a record's header: length, id, rows, checkpoints, consumed offsets (uint32 each). */
const HEADER = 20;
/** Bytes per row before its texts: offset, queue, enqueuedAt, expiresAt, size (float64), meta and body lengths (uint32). */
const ROW_FIXED = 48;

/**
 * Commits handed from the event loop to the database thread through shared memory, so that
 * handing one over costs a copy of its bytes and nothing else: no message, no allocation, no
 * structured clone. One writer and one reader; records follow each other in a ring of
 * `capacity` bytes (a power of two), a record never split at its end. The reader sets `idle`
 * when it ran out of records; the writer that then adds one is told to wake it (`write`).
 */
export class CommitRing {
  private readonly control: Int32Array;
  private readonly bytes: Buffer;
  private readonly view: DataView;
  private readonly capacity: number;

  constructor(readonly shared: SharedArrayBuffer) {
    this.control = new Int32Array(shared, 0, CONTROL_BYTES / 4);
    this.capacity = shared.byteLength - CONTROL_BYTES;
    if (this.capacity <= 0 || (this.capacity & (this.capacity - 1)) !== 0)
      throw new Error('a commit ring holds a power of two of bytes');
    this.bytes = Buffer.from(shared, CONTROL_BYTES, this.capacity);
    this.view = new DataView(shared, CONTROL_BYTES, this.capacity);
  }

  static create(capacity: number): CommitRing {
    const ring = new CommitRing(new SharedArrayBuffer(CONTROL_BYTES + capacity));
    Atomics.store(ring.control, IDLE, 1);
    return ring;
  }

  /**
   * Adds a commit. `added`: false when the ring has no room for it now (the reader is behind);
   * `wake`: the reader was idle and was woken.
   */
  write(commit: RingCommit): { added: boolean; wake: boolean } {
    const bound = boundOf(commit);
    const written = Atomics.load(this.control, WRITTEN);
    const free = this.capacity - ((written - Atomics.load(this.control, READ)) | 0);
    let at = written & (this.capacity - 1);
    // a record starts where it fits whole: at the ring's start when the end is too near
    const skip = at + bound > this.capacity ? this.capacity - at : 0;
    if (bound + skip > free) return { added: false, wake: false };
    if (skip > 0) {
      this.view.setUint32(at, WRAP, LE);
      at = 0;
    }
    const start = at;
    at += HEADER;
    for (const row of commit.rows) {
      this.view.setFloat64(at, row.offset, LE);
      this.view.setFloat64(at + 8, row.queue, LE);
      this.view.setFloat64(at + 16, row.enqueuedAt, LE);
      this.view.setFloat64(at + 24, row.expiresAt, LE);
      this.view.setFloat64(at + 32, row.size, LE);
      const metaLength = this.bytes.write(row.meta, at + ROW_FIXED);
      this.view.setUint32(at + 40, metaLength, LE);
      this.view.setUint32(at + 44, row.body.length, LE);
      at += ROW_FIXED + metaLength;
      this.bytes.set(row.body, at);
      at += row.body.length;
    }
    for (const queue of commit.queues) {
      this.view.setFloat64(at, queue.id, LE);
      this.view.setFloat64(at + 8, queue.checkpoint, LE);
      this.view.setFloat64(at + 16, queue.readMark, LE);
      at += 24;
    }
    for (const offset of commit.consumed) {
      this.view.setFloat64(at, offset, LE);
      at += 8;
    }
    const length = align(at - start);
    this.view.setUint32(start, length, LE);
    this.view.setUint32(start + 4, commit.id, LE);
    this.view.setUint32(start + 8, commit.rows.length, LE);
    this.view.setUint32(start + 12, commit.queues.length, LE);
    this.view.setUint32(start + 16, commit.consumed.length, LE);
    Atomics.store(this.control, WRITTEN, (written + skip + length) | 0);
    const wake = Atomics.exchange(this.control, IDLE, 0) === 1;
    if (wake) Atomics.notify(this.control, IDLE);
    return { added: true, wake };
  }

  /** False when the commit would not fit even in the empty ring. */
  fits(commit: RingCommit): boolean {
    return boundOf(commit) <= this.capacity;
  }

  /** The next commit, or undefined when the reader has read everything written. */
  read(): RingCommit | undefined {
    const read = Atomics.load(this.control, READ);
    if (read === Atomics.load(this.control, WRITTEN)) return undefined;
    let at = read & (this.capacity - 1);
    let skip = 0;
    if (this.view.getUint32(at, LE) === WRAP) {
      skip = this.capacity - at;
      at = 0;
    }
    const length = this.view.getUint32(at, LE);
    const commit: RingCommit = { id: this.view.getUint32(at + 4, LE), rows: [], queues: [], consumed: [] };
    const rows = this.view.getUint32(at + 8, LE);
    const queues = this.view.getUint32(at + 12, LE);
    const consumed = this.view.getUint32(at + 16, LE);
    let p = at + HEADER;
    for (let index = 0; index < rows; index++) {
      const metaLength = this.view.getUint32(p + 40, LE);
      const bodyLength = this.view.getUint32(p + 44, LE);
      const metaAt = p + ROW_FIXED;
      commit.rows.push({
        offset: this.view.getFloat64(p, LE),
        queue: this.view.getFloat64(p + 8, LE),
        enqueuedAt: this.view.getFloat64(p + 16, LE),
        expiresAt: this.view.getFloat64(p + 24, LE),
        size: this.view.getFloat64(p + 32, LE),
        meta: this.bytes.toString('utf8', metaAt, metaAt + metaLength),
        // its own copy: the ring's bytes are written over once the record is read
        body: Buffer.from(this.bytes.subarray(metaAt + metaLength, metaAt + metaLength + bodyLength)),
      });
      p = metaAt + metaLength + bodyLength;
    }
    for (let index = 0; index < queues; index++, p += 24)
      commit.queues.push({
        id: this.view.getFloat64(p, LE),
        checkpoint: this.view.getFloat64(p + 8, LE),
        readMark: this.view.getFloat64(p + 16, LE),
      });
    for (let index = 0; index < consumed; index++, p += 8) commit.consumed.push(this.view.getFloat64(p, LE));
    Atomics.store(this.control, READ, (read + skip + length) | 0);
    return commit;
  }

  /** The reader is at work again (it found a request after saying it was idle). */
  busy(): void {
    Atomics.store(this.control, IDLE, 0);
  }

  /** The reader waits until a writer wakes it (or returns at once if one did meanwhile). */
  sleep(): void {
    Atomics.wait(this.control, IDLE, 1);
  }

  /** Wakes the reader if it said it was idle (the writer of a request for it calls this). */
  wake(): void {
    if (Atomics.exchange(this.control, IDLE, 0) === 1) Atomics.notify(this.control, IDLE);
  }

  /**
   * The reader ran out of records: it says so, unless one came in meanwhile (then false: read on).
   * The writer of the next record is told to wake it.
   */
  idle(): boolean {
    Atomics.store(this.control, IDLE, 1);
    if (Atomics.load(this.control, READ) === Atomics.load(this.control, WRITTEN)) return true;
    Atomics.store(this.control, IDLE, 0);
    return false;
  }
}

/** The most bytes a commit's record can take (a text's UTF-8 takes up to 3 bytes per UTF-16 unit). */
function boundOf(commit: RingCommit): number {
  let bound = HEADER + commit.queues.length * 24 + commit.consumed.length * 8;
  for (const row of commit.rows) bound += ROW_FIXED + row.meta.length * 3 + row.body.length;
  return align(bound);
}

function align(bytes: number): number {
  return (bytes + 7) & ~7;
}
