import { messageSize, type HubMessage } from '../../../routing/message.js';
import { HubRequestError } from '../../hub-request-error.js';
import type { EnqueueOptions } from '../endpoint.js';
import type { DropReason, MessageStores, StoreLimits } from '../message-store.js';
import { DatabaseThread } from './database-thread.js';
import { Fifo, type HeldMessage } from './fifo.js';
import type { Durability } from './message-database.js';
import { decodeMessage, encodeMessageMeta } from './message-record.js';
import type { MessageRow } from './row-batch.js';
import { SqliteMessageStore, type StoreOwner } from './sqlite-store.js';
import type { WorkerEvent } from './worker-protocol.js';

export interface SqliteStoresOptions {
  /** The database file (`<homedir>/hub/messages.db`); its folder is made when missing. */
  file: string;
  /**
   * `synced` (the default) and `full`: acknowledged messages survive a power loss (see Durability);
   * `normal`: they survive a crash of the process only.
   */
  durability?: Durability;
  /**
   * How long the first append of a commit waits for others to join it. 0 (the default): until the
   * event loop has handled the input that is already in (setImmediate), so a commit takes every
   * message read in one turn of the loop and adds no timer delay.
   */
  commitIntervalMs?: number;
  /** Appends that make a commit at once. */
  commitBatch?: number;
  /** Messages of each FIFO kept in memory ahead of its reader. */
  readAhead?: number;
  /** How often expired heads are dropped and acknowledged messages deleted from the file. */
  cleanupIntervalMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

/** Bytes of appends that make a commit at once (a commit crosses to the database thread whole). */
const COMMIT_BYTES = 4 * 1024 * 1024;
/** How long a moved checkpoint waits for the commit that saves it. */
const CHECKPOINT_DELAY_MS = 50;

interface PendingAppend {
  store: SqliteMessageStore;
  fifo: Fifo;
  entry: HeldMessage;
  row: MessageRow;
  resolve(): void;
  reject(error: Error): void;
}

/** A commit handed to the database thread: its appends and the checkpoints it saves. */
interface CommitInFlight {
  appends: PendingAppend[];
  moved: { fifo: Fifo; checkpoint: number; readMark: number }[];
}

/**
 * The durable message stores of one hub: one SQLite file (WAL) for every endpoint, one FIFO per
 * endpoint and priority with its checkpoint, kept by a database thread of its own (the event loop
 * runs no SQL while messages flow). Group commit: appends wait together for one batch, handed to
 * that thread once the event loop has handled the input already in (or after `commitIntervalMs`)
 * or at `commitBatch` appends, whichever comes first; batches that arrive there while the file is
 * being synced go into one transaction after it. Appends resolve (so their senders are
 * acknowledged) only once their commit is on the disk. Acknowledgements move
 * the checkpoints, saved with the next commit (at most 50 ms later); a cleanup deletes what lies
 * at or below them. After a crash a message read and acknowledged past the saved checkpoint is
 * sent again: a duplicate, counted, never a loss.
 */
export class SqliteMessageStores implements MessageStores {
  private readonly db: DatabaseThread;
  private readonly inFlight = new Map<number, CommitInFlight>();
  private commits = 0;
  private readonly stores = new Map<string, SqliteMessageStore>();
  /** FIFOs loaded from the file, by endpoint, until that endpoint's store is opened. */
  private readonly restored = new Map<string, Fifo[]>();
  private pending: PendingAppend[] = [];
  private pendingBytes = 0;
  private readonly durability: Durability;
  private nextOffset: number;
  /** Cancels the commit scheduled for the appends waiting; undefined when none is. */
  private cancelCommit: (() => void) | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private readonly cleanupTimer: NodeJS.Timeout;
  private limits: StoreLimits = { fullPolicy: 'refuse' };
  private closed = false;
  private readonly commitIntervalMs: number;
  private readonly commitBatch: number;
  private readonly readAhead: number;
  private readonly owner: StoreOwner;
  readonly now: () => number;
  /** Messages refused because the store was full. */
  refused = 0;
  private refusing = false;

  constructor(private readonly options: SqliteStoresOptions) {
    this.commitIntervalMs = options.commitIntervalMs ?? 0;
    this.commitBatch = options.commitBatch ?? 1000;
    this.readAhead = options.readAhead ?? 1000;
    this.now = options.now ?? Date.now;
    this.durability = options.durability ?? 'synced';
    this.db = new DatabaseThread(options.file, this.durability, (event) => this.finished(event));
    this.nextOffset = this.db.nextOffset;
    for (const queue of this.db.queues) {
      const fifos = this.restored.get(queue.endpoint) ?? [];
      fifos.push(this.fifoOf(queue.id, queue.priority, queue));
      this.restored.set(queue.endpoint, fifos);
    }
    this.owner = {
      append: (store, message, enqueue) => this.append(store, message, enqueue),
      createFifo: (endpointId, priority) => {
        const checkpoint = this.nextOffset - 1;
        const id = this.db.createQueue(endpointId, priority, checkpoint);
        return this.fifoOf(id, priority, {
          checkpoint,
          readMark: checkpoint,
          lastOffset: checkpoint,
          count: 0,
          bytes: 0,
        });
      },
      changed: () => this.scheduleCheckpoint(),
      now: this.now,
    };
    this.cleanupTimer = setInterval(() => this.cleanup(), options.cleanupIntervalMs ?? 250);
    this.cleanupTimer.unref();
  }

  /** The store of one endpoint (the same one each time it is asked for). */
  open(endpointId: string, onDropped: (message: HubMessage, reason: DropReason) => void): SqliteMessageStore {
    let store = this.stores.get(endpointId);
    if (store) {
      store.onDropped = onDropped;
      return store;
    }
    store = new SqliteMessageStore(endpointId, this.owner, this.restored.get(endpointId) ?? [], onDropped);
    this.restored.delete(endpointId);
    this.stores.set(endpointId, store);
    return store;
  }

  persistedEndpoints(): string[] {
    return [...this.restored].filter(([, fifos]) => fifos.some((fifo) => fifo.count > 0)).map(([id]) => id);
  }

  limit(limits: StoreLimits): void {
    this.limits = limits;
  }

  /** Bytes held by every store, appends waiting for their commit included. */
  get bytes(): number {
    let total = this.pendingBytes;
    for (const store of this.stores.values()) total += store.bytes;
    for (const fifos of this.restored.values()) for (const fifo of fifos) total += fifo.bytes;
    return total;
  }

  /**
   * Commits what waits, saves the checkpoints, deletes what they passed and closes the file; the
   * appends committed resolve (those that could not be, reject).
   */
  close(): void {
    if (this.closed) return;
    this.commit();
    this.closed = true;
    clearInterval(this.cleanupTimer);
    this.db.close();
  }

  private fifoOf(id: number, priority: number, state: ConstructorParameters<typeof Fifo>[2]): Fifo {
    return new Fifo(
      id,
      priority,
      state,
      (offset, through, limit) =>
        this.db.load(id, offset, through, limit).map((row) => ({
          message: decodeMessage(row.body, row.meta),
          priority,
          enqueuedAt: row.enqueuedAt,
          expiresAt: row.expiresAt,
          offset: row.offset,
          size: row.size,
        })),
      this.readAhead,
    );
  }

  private append(store: SqliteMessageStore, message: HubMessage, options: EnqueueOptions): Promise<void> {
    if (this.closed) return Promise.reject(new HubRequestError(503, 'the message store is closed'));
    const size = messageSize(message);
    const full = this.makeRoom(size);
    if (full) {
      this.refused++;
      // said once each time the store fills up, not for every message refused
      if (!this.refusing) this.options.log?.(`hub: ${full.message}; refusing messages until there is room`);
      this.refusing = true;
      return Promise.reject(full);
    }
    if (this.refusing) this.options.log?.('hub: the message store has room again');
    this.refusing = false;
    const fifo = store.fifo(options.priority);
    const now = this.now();
    const entry: HeldMessage = {
      message,
      priority: options.priority,
      enqueuedAt: now,
      expiresAt: Math.min(now + options.timeToLiveSecs * 1000, Number.MAX_SAFE_INTEGER),
      offset: this.nextOffset++,
      size,
    };
    const row: MessageRow = {
      offset: entry.offset,
      queue: fifo.id,
      enqueuedAt: entry.enqueuedAt,
      expiresAt: entry.expiresAt,
      size,
      meta: encodeMessageMeta(message),
      body: message.body,
    };
    this.pendingBytes += size;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ store, fifo, entry, row, resolve, reject });
      if (this.pending.length >= this.commitBatch || this.pendingBytes >= COMMIT_BYTES) this.commit(false);
      else this.cancelCommit ??= this.scheduleCommit();
    });
  }

  /**
   * Under the deployment's maxSizeBytes: nothing to do. At it: `dropOldest` drops the oldest unread
   * messages of all endpoints until the new one fits; `refuse` (or nothing left to drop) refuses it.
   */
  private makeRoom(size: number): HubRequestError | undefined {
    const { maxSizeBytes, fullPolicy } = this.limits;
    if (maxSizeBytes === undefined) return undefined;
    let held = this.bytes;
    if (held + size <= maxSizeBytes) return undefined;
    if (fullPolicy === 'dropOldest' && size <= maxSizeBytes) {
      while (held + size > maxSizeBytes) {
        const dropped = this.dropOldest();
        if (dropped === 0) break;
        held -= dropped;
      }
      if (held + size <= maxSizeBytes) return undefined;
    }
    return new HubRequestError(
      503,
      `the message store is full (${held} of its ${maxSizeBytes} bytes held): the message was not accepted; try again later`,
    );
  }

  /** Drops the oldest unread message of any endpoint; the bytes it freed (0: nothing to drop). */
  private dropOldest(): number {
    let oldest: { store: SqliteMessageStore; fifo: Fifo; at: number } | undefined;
    for (const store of this.stores.values()) {
      for (const fifo of store.queues) {
        const at = fifo.peek()?.enqueuedAt;
        if (at !== undefined && (oldest === undefined || at < oldest.at)) oldest = { store, fifo, at };
      }
    }
    return oldest?.store.drop(oldest.fifo, 'store_full')?.size ?? 0;
  }

  private scheduleCommit(): () => void {
    if (this.commitIntervalMs > 0) {
      const timer = setTimeout(() => this.commit(false), this.commitIntervalMs);
      return () => clearTimeout(timer);
    }
    const immediate = setImmediate(() => this.commit(false));
    return () => clearImmediate(immediate);
  }

  private scheduleCheckpoint(): void {
    if (this.closed || this.checkpointTimer) return;
    this.checkpointTimer = setTimeout(() => this.commit(), CHECKPOINT_DELAY_MS);
    this.checkpointTimer.unref();
  }

  /**
   * Hands the appends waiting and (`withCheckpoints`) every checkpoint that moved to the database
   * thread as one commit; the appends resolve once it is on the disk (`finished`). The commits
   * that appends bring leave the checkpoints to the timer (at most 50 ms), the cleanup and the
   * close: the row of a FIFO written with every commit of a busy hub would be one more page for
   * each commit to write.
   *
   * The messages are readable at once, so delivery waits neither for the database thread nor for
   * the disk; their senders are acknowledged only once the commit is synced. A receiver may thus
   * get a message whose sender is never acknowledged (the process killed or the power lost before
   * the sync, or the commit refused by a full disk): the sender sends it again (or is told it was
   * refused), a duplicate at most, never a loss. A read of messages past the read-ahead comes
   * after every commit handed over, so it finds all of them.
   */
  private commit(withCheckpoints = true): void {
    this.cancelCommit?.();
    this.cancelCommit = undefined;
    if (withCheckpoints) {
      clearTimeout(this.checkpointTimer);
      this.checkpointTimer = undefined;
    }
    if (this.closed) return;
    const appends = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const moved = withCheckpoints ? this.movedCheckpoints() : [];
    if (appends.length === 0 && moved.length === 0) return;
    const consumed = moved.flatMap(({ fifo, checkpoint }) => fifo.takeConsumedAbove(checkpoint));
    const id = ++this.commits;
    this.inFlight.set(id, { appends, moved });
    this.db.commit({
      id,
      rows: appends.map((append) => append.row),
      queues: moved.map(({ fifo, checkpoint, readMark }) => ({ id: fifo.id, checkpoint, readMark })),
      consumed,
    });
    if (appends.length === 0) return;
    // the FIFOs take the messages in offset order, the order of the commits
    const stores = new Set<SqliteMessageStore>();
    for (const append of appends) {
      append.fifo.committed(append.entry);
      stores.add(append.store);
    }
    for (const store of stores) store.onReadable?.();
  }

  /** What the database thread made of commits (and cleanups). */
  private finished(event: WorkerEvent): void {
    if (event.event === 'cleaned') {
      if (event.failure) this.options.log?.(`hub: message store: cleanup failed (${event.failure})`);
      return;
    }
    if (event.event === 'stopped') {
      this.finished({
        event: 'failed',
        ids: [...this.inFlight.keys()],
        stage: 'commit',
        reason: event.reason,
      });
      return;
    }
    const commits = event.ids.map((id) => this.inFlight.get(id)!);
    for (const id of event.ids) this.inFlight.delete(id);
    if (event.event === 'synced') {
      for (const commit of commits) {
        for (const { fifo, checkpoint, readMark } of commit.moved) fifo.saved = { checkpoint, readMark };
        for (const append of commit.appends) append.resolve();
      }
      return;
    }
    const what = event.stage === 'commit' ? 'a commit failed' : 'syncing the file failed';
    this.options.log?.(`hub: message store: ${what} (${event.reason})`);
    const refusal = new HubRequestError(
      503,
      `the message store could not save the message (${event.reason}); try again later`,
    );
    for (const commit of commits) {
      for (const append of commit.appends) {
        // not in the file: those not read yet are let go (their senders are refused)
        if (event.stage === 'commit') append.fifo.forget(append.entry);
        append.reject(refusal);
      }
    }
  }

  private movedCheckpoints(): { fifo: Fifo; checkpoint: number; readMark: number }[] {
    const moved: { fifo: Fifo; checkpoint: number; readMark: number }[] = [];
    for (const store of this.stores.values()) {
      for (const fifo of store.queues) {
        const checkpoint = fifo.checkpoint();
        const changed = checkpoint !== fifo.saved.checkpoint || fifo.readMark !== fifo.saved.readMark;
        if (changed || fifo.consumedSinceCommit) moved.push({ fifo, checkpoint, readMark: fifo.readMark });
      }
    }
    return moved;
  }

  /** Drops expired heads, saves the checkpoints and deletes the messages at or below them. */
  private cleanup(): void {
    if (this.closed) return;
    const now = this.now();
    for (const store of this.stores.values()) store.expire(now);
    this.commit();
    this.db.cleanup();
  }
}
