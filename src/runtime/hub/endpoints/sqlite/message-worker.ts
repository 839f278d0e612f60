/**
 * The message store's database thread: it owns the SQLite connection, so no statement and no
 * commit runs on the hub's event loop. Commits come through shared memory (CommitRing), one per
 * turn of the hub's loop, and are made in order: all those waiting as one transaction, then one
 * fdatasync of the WAL, made on this thread (no hop to libuv's thread pool and back); those that
 * come in during the sync make the next transaction once it ended. The busier the hub, the larger
 * each commit, the fewer writes and syncs per message. Reads (a FIFO's next messages once its
 * read-ahead ran dry) and new FIFOs are answered between two commits, after the commits handed
 * over before them, while the hub's loop waits. With nothing to do the thread sleeps on the ring
 * (Atomics.wait) until the hub wakes it.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';

import { CommitRing, type RingCommit } from './commit-ring.js';
import { MessageDatabase, type StoredQueue } from './message-database.js';
import { packRows, transferablesOf, type MessageRow } from './row-batch.js';
import {
  reasonOf,
  type Answer,
  type CheckpointSave,
  type Request,
  type WorkerEvent,
  type WorkerStart,
} from './worker-protocol.js';

/** Delete statements per FIFO per cleanup (each deletes up to 5,000 rows). */
const DELETES_PER_CLEANUP = 5;
/** Free pages given back to the file system per cleanup at most (32 MiB of 4 KiB pages). */
const SHRINK_PAGES = 8192;

const start = workerData as WorkerStart;

function answer(reply: Answer, transfer: ArrayBuffer[] = []): void {
  start.answers.postMessage(reply, transfer);
  Atomics.store(start.signal, 0, 1);
  Atomics.notify(start.signal, 0);
}

function tell(event: WorkerEvent): void {
  start.events.postMessage(event);
}

let db: MessageDatabase;
try {
  db = new MessageDatabase(start.file, start.durability);
  const queues: StoredQueue[] = db.queues();
  answer({ ok: true, opened: { queues, nextOffset: db.nextOffset() } });
} catch (error) {
  answer({ ok: false, error: (error as Error).message });
  start.requests.close();
  process.exit(0);
}

const ring = new CommitRing(start.ring);
/** Commits made and not yet synced, by id. */
let unsynced: number[] = [];
let closing = false;

/**
 * Commits what the ring holds, syncs, tells the appends they are durable; again with what came
 * in during the sync (one transaction and one sync for all of it); requests in between. With
 * nothing to do the thread sleeps until the hub wakes it (CommitRing.wake): no event loop turn,
 * no message, for a commit.
 */
async function run(): Promise<void> {
  for (;;) {
    const request = receiveMessageOnPort(start.requests)?.message as Request | undefined;
    if (request) handle(request);
    commitWhatWaits();
    if (unsynced.length > 0) {
      const ids = unsynced;
      unsynced = [];
      if (start.durability === 'synced') {
        try {
          await db.syncWal();
        } catch (error) {
          tell({ event: 'failed', ids, stage: 'sync', reason: failure(error) });
          continue;
        }
      }
      tell({ event: 'synced', ids });
      continue;
    }
    if (request) continue;
    if (closing) return close();
    if (!ring.idle()) continue;
    // a request posted before the idle flag was up did not wake this thread: look once more
    const late = receiveMessageOnPort(start.requests)?.message as Request | undefined;
    if (late) {
      ring.busy();
      handle(late);
      continue;
    }
    ring.sleep();
  }
}

function handle(request: Request): void {
  // the commits written before the request first (a read then finds every message it asks for)
  commitWhatWaits();
  if (request.op === 'cleanup') cleanup();
  else if (request.op === 'close') closing = true;
  else serve(request);
}

void run();

/** Every commit in the ring, as one transaction. */
function commitWhatWaits(): void {
  const commits: RingCommit[] = [];
  for (let next = ring.read(); next; next = ring.read()) commits.push(next);
  if (commits.length > 0) commit(commits);
}

function serve(request: Request & { op: 'createQueue' | 'load' }): void {
  try {
    if (request.op === 'createQueue') {
      answer({ ok: true, queue: db.createQueue(request.endpoint, request.priority, request.checkpoint) });
    } else {
      const rows = packRows(db.load(request.queue, request.offset, request.through, request.limit));
      answer({ ok: true, rows }, transferablesOf(rows));
    }
  } catch (error) {
    answer({ ok: false, error: reasonOf(error) });
  }
}

/** One transaction for `commits`; they wait for the next sync (or fail at once). */
function commit(commits: RingCommit[]): void {
  const ids = commits.map((one) => one.id);
  const rows: MessageRow[] = [];
  const queues: CheckpointSave[] = [];
  const consumed: number[] = [];
  for (const one of commits) {
    for (const row of one.rows) rows.push(row);
    for (const queue of one.queues) queues.push(queue);
    for (const offset of one.consumed) consumed.push(offset);
  }
  try {
    db.commit(rows, queues, consumed);
  } catch (error) {
    tell({ event: 'failed', ids, stage: 'commit', reason: failure(error) });
    return;
  }
  unsynced.push(...ids);
}

function failure(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? 'a write error';
}

function cleanup(): void {
  try {
    db.deleteAcknowledged(DELETES_PER_CLEANUP);
    db.shrink(SHRINK_PAGES);
    tell({ event: 'cleaned' });
  } catch (error) {
    tell({ event: 'cleaned', failure: reasonOf(error) });
  }
}

function close(): void {
  try {
    db.deleteAcknowledged(DELETES_PER_CLEANUP);
    db.shrink(SHRINK_PAGES);
  } catch {
    // what stays is deleted by the next cleanup after the store opens again
  }
  try {
    db.close();
    answer({ ok: true });
  } catch (error) {
    answer({ ok: false, error: reasonOf(error) });
  }
  start.requests.close();
}
