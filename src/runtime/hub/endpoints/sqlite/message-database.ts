import { chmodSync, closeSync, fdatasyncSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import { syncDirectory } from '../../../files/atomic-write.js';
import type { FifoState } from './fifo.js';
import type { MessageRow } from './row-batch.js';

/**
 * How a commit reaches the disk (all of it on the store's database thread). `synced` (iotedged's):
 * SQLite's `synchronous = NORMAL` (a commit is written to the WAL, no fsync), then the WAL file is
 * fdatasynced, once for all the commits made meanwhile, before their appends resolve: what was
 * acknowledged survives a power loss. `full`: `synchronous = FULL`, SQLite fsyncs the WAL inside
 * each commit: the same guarantee, one fsync per commit. `normal`: `synchronous = NORMAL` alone: a
 * commit survives the process being killed, not a power loss (the commits since the last
 * checkpoint may be lost).
 */
export type Durability = 'synced' | 'full' | 'normal';

/** A FIFO as the database lists it when the store opens. */
export interface StoredQueue extends FifoState {
  id: number;
  endpoint: string;
  priority: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queues (
  id INTEGER PRIMARY KEY,
  endpoint TEXT NOT NULL,
  priority INTEGER NOT NULL,
  checkpoint INTEGER NOT NULL,
  read_mark INTEGER NOT NULL,
  UNIQUE (endpoint, priority)
);
CREATE TABLE IF NOT EXISTS messages (
  offset INTEGER PRIMARY KEY,
  queue INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  size INTEGER NOT NULL,
  meta TEXT NOT NULL,
  body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_queue ON messages (queue, offset);
`;

/** Messages added by one INSERT statement at most (a commit of more runs several). */
const INSERT_ROWS = 16;
/** Rows deleted per statement by the cleanup. */
const DELETE_BATCH = 5000;

/**
 * The message store's SQLite file: one table of messages (offset = rowid, increasing across the
 * whole file), one row per FIFO with its checkpoint. All statements are synchronous (better-sqlite3):
 * the hub runs them on a worker thread of its own (message-worker.ts), never on its event loop.
 */
export class MessageDatabase {
  private readonly db: Database.Database;
  /** INSERT statements by the number of rows they add (1 to INSERT_ROWS). */
  private readonly inserts = new Map<number, Database.Statement>();
  private readonly saveQueue: Database.Statement;
  private readonly loadMessages: Database.Statement;
  private readonly deleteMessages: Database.Statement;
  private readonly addQueue: Database.Statement;
  private readonly deleteMessage: Database.Statement;
  /** One commit's statements in one transaction (made once: better-sqlite3 wraps them in BEGIN/COMMIT). */
  private readonly commitTransaction: (
    messages: readonly MessageRow[],
    queues: readonly { id: number; checkpoint: number; readMark: number }[],
    consumed: readonly number[],
  ) => void;
  /** The WAL file, opened at the first sync (SQLite makes it at the first write). */
  private walFd: number | undefined;

  constructor(
    private readonly file: string,
    durability: Durability,
  ) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
    try {
      this.db = new Database(file);
      chmodSync(file, 0o600);
      // must come before the first table of a new file; pages freed by the cleanup can then be returned
      this.db.pragma('auto_vacuum = INCREMENTAL');
      this.db.pragma('journal_mode = WAL');
      // a checkpoint (two fsyncs on the event loop) every 10,000 WAL pages instead of 1,000: rarer stalls
      this.db.pragma('wal_autocheckpoint = 10000');
      this.db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
      // one process owns the file: no file locks taken and released around every transaction, and
      // the WAL's index in the process's memory instead of a shared-memory file
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('temp_store = MEMORY');
      this.db.exec(SCHEMA);
    } catch (error) {
      throw new Error(
        `the message store ${file} cannot be opened: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    this.saveQueue = this.db.prepare('UPDATE queues SET checkpoint = ?, read_mark = ? WHERE id = ?');
    this.loadMessages = this.db.prepare(
      'SELECT offset, enqueued_at, expires_at, size, meta, body FROM messages WHERE queue = ? AND offset > ? AND offset <= ? ORDER BY offset LIMIT ?',
    );
    this.deleteMessages = this.db.prepare(
      `DELETE FROM messages WHERE offset IN (SELECT offset FROM messages WHERE queue = ? AND offset <= ? ORDER BY offset LIMIT ${DELETE_BATCH})`,
    );
    this.deleteMessage = this.db.prepare('DELETE FROM messages WHERE offset = ?');
    this.addQueue = this.db.prepare(
      'INSERT INTO queues (endpoint, priority, checkpoint, read_mark) VALUES (?, ?, ?, ?)',
    );
    this.commitTransaction = this.db.transaction(
      (
        messages: readonly MessageRow[],
        queues: readonly { id: number; checkpoint: number; readMark: number }[],
        consumed: readonly number[],
      ) => {
        for (let at = 0; at < messages.length; at += INSERT_ROWS) {
          const rows = messages.slice(at, at + INSERT_ROWS);
          const values: unknown[] = [];
          for (const m of rows)
            values.push(m.offset, m.queue, m.enqueuedAt, m.expiresAt, m.size, m.meta, m.body);
          this.insertStatement(rows.length).run(values);
        }
        for (const q of queues) this.saveQueue.run(q.checkpoint, q.readMark, q.id);
        for (const offset of consumed) this.deleteMessage.run(offset);
      },
    );
  }

  /** The INSERT of `rows` messages in one statement (prepared the first time a commit needs it). */
  private insertStatement(rows: number): Database.Statement {
    let statement = this.inserts.get(rows);
    if (!statement) {
      statement = this.db.prepare(
        `INSERT INTO messages (offset, queue, enqueued_at, expires_at, size, meta, body) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      );
      this.inserts.set(rows, statement);
    }
    return statement;
  }

  /**
   * Every commit made so far is on the disk once this resolves: an fdatasync of the WAL, made on
   * the calling thread (the store's database thread, which has nothing else to do meanwhile).
   */
  async syncWal(): Promise<void> {
    if (this.walFd === undefined) {
      this.walFd = openSync(`${this.file}-wal`, 'r');
      // the WAL may be a new file: its directory entry must reach the disk too
      await syncDirectory(path.dirname(this.file));
    }
    fdatasyncSync(this.walFd);
  }

  /** Every FIFO with what it holds past its checkpoint. */
  queues(): StoredQueue[] {
    const rows = this.db
      .prepare(
        `SELECT q.id, q.endpoint, q.priority, q.checkpoint, q.read_mark AS readMark,
                (SELECT count(*) FROM messages m WHERE m.queue = q.id AND m.offset > q.checkpoint) AS count,
                (SELECT coalesce(sum(size), 0) FROM messages m WHERE m.queue = q.id AND m.offset > q.checkpoint) AS bytes,
                (SELECT max(offset) FROM messages m WHERE m.queue = q.id) AS maxOffset
           FROM queues q`,
      )
      .all() as (Omit<StoredQueue, 'lastOffset'> & { maxOffset: number | null })[];
    return rows.map(({ maxOffset, ...queue }) => ({
      ...queue,
      lastOffset: Math.max(queue.checkpoint, maxOffset ?? 0),
    }));
  }

  /** The next free offset: above every message and every checkpoint. */
  nextOffset(): number {
    const row = this.db
      .prepare(
        'SELECT max(coalesce((SELECT max(offset) FROM messages), 0), coalesce((SELECT max(checkpoint) FROM queues), 0)) AS top',
      )
      .get() as { top: number };
    return row.top + 1;
  }

  createQueue(endpoint: string, priority: number, checkpoint: number): number {
    return Number(this.addQueue.run(endpoint, priority, checkpoint, checkpoint).lastInsertRowid);
  }

  /** Up to `limit` messages of a FIFO after `offset` and up to `through`, in order. */
  load(queue: number, offset: number, through: number, limit: number): MessageRow[] {
    const rows = this.loadMessages.all(queue, offset, through, limit) as {
      offset: number;
      enqueued_at: number;
      expires_at: number;
      size: number;
      meta: string;
      body: Buffer;
    }[];
    return rows.map((row) => ({
      offset: row.offset,
      queue,
      enqueuedAt: row.enqueued_at,
      expiresAt: row.expires_at,
      size: row.size,
      meta: row.meta,
      body: row.body,
    }));
  }

  /**
   * One transaction: the new messages, the FIFOs' new checkpoints and the messages consumed above
   * them; throws when it could not commit.
   */
  commit(
    messages: readonly MessageRow[],
    queues: readonly { id: number; checkpoint: number; readMark: number }[],
    consumed: readonly number[],
  ): void {
    this.commitTransaction(messages, queues, consumed);
  }

  /**
   * Deletes the messages at or below each FIFO's saved checkpoint (acknowledged, expired or
   * dropped), up to `batches` statements of 5,000 rows per FIFO.
   */
  deleteAcknowledged(batches: number): void {
    const queues = this.db.prepare('SELECT id, checkpoint FROM queues').all() as {
      id: number;
      checkpoint: number;
    }[];
    for (const { id, checkpoint } of queues) {
      for (let round = 0; round < batches; round++) {
        if (this.deleteMessages.run(id, checkpoint).changes === 0) break;
      }
    }
  }

  /**
   * When more than a quarter of the file (and over 8 MiB) is free pages, gives up to `pages` of them
   * back to the file system and empties the WAL into the file, so a drained store is small again.
   */
  shrink(pages: number): void {
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const total = this.db.pragma('page_count', { simple: true }) as number;
    if (free < 2048 || free * 4 < total) return;
    this.db.pragma(`incremental_vacuum(${Math.min(free, pages)})`);
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Closes the file (SQLite checkpoints the WAL into it and syncs it); a WAL sync under way ends first. */
  close(): void {
    this.db.close();
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }
}
