import type { MessagePort } from 'node:worker_threads';

import type { Durability, StoredQueue } from './message-database.js';
import type { RowBatch } from './row-batch.js';

/** What the database thread is started with. */
export interface WorkerStart {
  file: string;
  durability: Durability;
  /** Requests from the event loop, in order. */
  requests: MessagePort;
  /** Answers to the requests the event loop waits for (`SyncRequest`). */
  answers: MessagePort;
  /** What becomes of commits and cleanups (`WorkerEvent`). */
  events: MessagePort;
  /** Set to 1 (and notified) when an answer was posted; the event loop waits on it. */
  signal: Int32Array;
  /** The commits (CommitRing). */
  ring: SharedArrayBuffer;
}

export interface CheckpointSave {
  id: number;
  checkpoint: number;
  readMark: number;
}

/** Requests the event loop waits for; answered at once, between commits. */
export type SyncRequest =
  | { op: 'createQueue'; endpoint: string; priority: number; checkpoint: number }
  | { op: 'load'; queue: number; offset: number; through: number; limit: number }
  /** After every commit asked for before it: deletes what the checkpoints passed, shrinks, closes. */
  | { op: 'close' };

/** Every request is handled after the commits written to the ring before it. */
export type Request = SyncRequest | { op: 'cleanup' };

export type Answer =
  | { ok: true; opened: { queues: StoredQueue[]; nextOffset: number } }
  | { ok: true; queue: number }
  | { ok: true; rows: RowBatch }
  | { ok: true }
  | { ok: false; error: string };

/**
 * `synced`: the commits are on the disk as the durability asks (their appends resolve);
 * `failed`: they were not saved, at the `stage` named.
 */
export type WorkerEvent =
  | { event: 'synced'; ids: number[] }
  | { event: 'failed'; ids: number[]; stage: 'commit' | 'sync'; reason: string }
  /** A cleanup ended; `failure` says why it could not finish. */
  | { event: 'cleaned'; failure?: string }
  /** The thread ended before the store closed: every commit not yet synced is lost to it. */
  | { event: 'stopped'; reason: string };

/** An error's code (SQLITE_FULL, ENOSPC) or else its message: what the hub says of a failure. */
export function reasonOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
}
