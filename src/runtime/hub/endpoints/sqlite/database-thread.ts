import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

import type { Durability, StoredQueue } from './message-database.js';
import { CommitRing, type RingCommit } from './commit-ring.js';
import { unpackRows, type MessageRow } from './row-batch.js';
import {
  reasonOf,
  type Answer,
  type Request,
  type SyncRequest,
  type WorkerEvent,
  type WorkerStart,
} from './worker-protocol.js';

/** How long the event loop waits for the database thread's answer before giving up on it. */
const ANSWER_TIMEOUT_MS = 60_000;
/** Bytes of the ring that carries commits to the database thread. */
const RING_BYTES = 32 * 1024 * 1024;

/**
 * The message store's database as the hub's event loop sees it: a worker thread
 * (message-worker.ts) owns the SQLite file. Commits are handed over through shared memory without
 * waiting (their outcome comes back as events), the thread woken only when it had run out of work; opening, new FIFOs, reads and closing wait for the thread's
 * answer (Atomics.wait), which comes between two commits.
 */
export class DatabaseThread {
  private readonly worker: Worker;
  private readonly requests: MessagePort;
  private readonly answers: MessagePort;
  private readonly events: MessagePort;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly ring = CommitRing.create(RING_BYTES);
  /** Commits that found the ring full, in order: they go in as the thread reads it. */
  private overflow: RingCommit[] = [];
  /** Commits and cleanups handed over and not yet answered: while there are, the process stays up. */
  private busy = 0;
  private closed = false;
  /** Why the database thread ended before the store closed (an error in it). */
  private stopped: string | undefined;
  readonly queues: StoredQueue[];
  readonly nextOffset: number;

  constructor(
    file: string,
    durability: Durability,
    private readonly onEvent: (event: WorkerEvent) => void,
  ) {
    const requests = new MessageChannel();
    const answers = new MessageChannel();
    const events = new MessageChannel();
    this.requests = requests.port1;
    this.answers = answers.port1;
    this.events = events.port1;
    const start: WorkerStart = {
      file,
      durability,
      requests: requests.port2,
      answers: answers.port2,
      events: events.port2,
      signal: this.signal,
      ring: this.ring.shared,
    };
    this.worker = new Worker(new URL('./message-worker.js', import.meta.url), {
      workerData: start,
      transferList: [requests.port2, answers.port2, events.port2],
    });
    this.worker.unref();
    this.worker.on('error', (error) => this.stop(reasonOf(error)));
    this.worker.on('exit', () => this.stop('it ended'));
    this.events.on('message', (event: WorkerEvent) => this.handle(event));
    this.events.unref();
    let opened: Answer;
    try {
      opened = this.wait();
    } catch (error) {
      this.closed = true;
      this.closePorts();
      throw error;
    }
    if (!('opened' in opened)) throw new Error('the message store thread answered out of turn');
    this.queues = opened.opened.queues;
    this.nextOffset = opened.opened.nextOffset;
  }

  /** Hands a commit over; its outcome comes as a `synced` (or `failed`) event. */
  commit(commit: RingCommit): void {
    if (this.stopped !== undefined) {
      // after the caller has done with the commit, as when the thread answers
      const reason = this.stopped;
      queueMicrotask(() => this.onEvent({ event: 'failed', ids: [commit.id], stage: 'commit', reason }));
      return;
    }
    if (this.busy++ === 0) this.events.ref();
    this.overflow.push(commit);
    this.pour();
  }

  /** Moves the commits waiting into the ring, as far as it has room. */
  private pour(): void {
    const tooLarge: number[] = [];
    while (this.overflow.length > 0) {
      const next = this.overflow[0]!;
      if (!this.ring.fits(next)) {
        this.overflow.shift();
        tooLarge.push(next.id);
        continue;
      }
      const written = this.ring.write(next);
      if (!written.added) break;
      this.overflow.shift();
    }
    if (tooLarge.length > 0)
      this.handle({ event: 'failed', ids: tooLarge, stage: 'commit', reason: 'a commit too large' });
  }

  /** Deletes what the saved checkpoints passed and gives free pages back, after the commits asked for. */
  cleanup(): void {
    this.post({ op: 'cleanup' });
  }

  createQueue(endpoint: string, priority: number, checkpoint: number): number {
    const answer = this.call({ op: 'createQueue', endpoint, priority, checkpoint });
    if (!('queue' in answer)) throw new Error('the message store thread answered out of turn');
    return answer.queue;
  }

  /**
   * Up to `limit` messages of a FIFO after `offset` and up to `through`, in order. The outcomes of
   * the commits made before the read are handled first: a message whose commit failed is not
   * in the file, and its FIFO is told so before it takes what the read found.
   */
  load(queue: number, offset: number, through: number, limit: number): MessageRow[] {
    const answer = this.call({ op: 'load', queue, offset, through, limit });
    if (!('rows' in answer)) throw new Error('the message store thread answered out of turn');
    this.handleWaiting();
    return unpackRows(answer.rows);
  }

  private handleWaiting(): void {
    for (let next = receiveMessageOnPort(this.events); next; next = receiveMessageOnPort(this.events))
      this.handle(next.message as WorkerEvent);
  }

  /**
   * Waits for every commit asked for, the last cleanup and the file's closing; the commits'
   * outcomes are handled before it returns.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      for (let waited = 0; this.overflow.length > 0; waited++) {
        if (waited * 10 > ANSWER_TIMEOUT_MS) throw new Error('the message store does not take its commits');
        this.pour();
        if (this.overflow.length > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
      this.call({ op: 'close' });
    } finally {
      this.handleWaiting();
      this.closePorts();
    }
  }

  /** The thread ended while the store was open: what it had not synced fails, and so will what comes. */
  private stop(reason: string): void {
    if (this.closed || this.stopped !== undefined) return;
    this.stopped = `the message store's thread stopped: ${reason}`;
    this.busy = 0;
    this.events.unref();
    this.onEvent({ event: 'stopped', reason: this.stopped });
  }

  private closePorts(): void {
    this.events.close();
    this.answers.close();
    this.requests.close();
  }

  private post(request: Request): void {
    if (this.busy++ === 0) this.events.ref();
    this.requests.postMessage(request);
    this.ring.wake();
  }

  private handle(event: WorkerEvent): void {
    if (event.event === 'stopped') return;
    if (this.overflow.length > 0) this.pour();
    const done = event.event === 'cleaned' ? 1 : event.ids.length;
    if ((this.busy -= done) === 0) this.events.unref();
    this.onEvent(event);
  }

  private call(request: SyncRequest): Exclude<Answer, { ok: false }> {
    if (this.stopped !== undefined) throw new Error(this.stopped);
    Atomics.store(this.signal, 0, 0);
    this.requests.postMessage(request);
    this.ring.wake();
    return this.wait();
  }

  /**
   * Waits until the thread says its answer is posted. A wake-up alone proves nothing: the notify of
   * the previous answer may arrive after this call reset the signal (the thread stores, then
   * notifies), so only the signal's value counts.
   */
  private wait(): Exclude<Answer, { ok: false }> {
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    while (Atomics.load(this.signal, 0) === 0) {
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.signal, 0, 0, left) === 'timed-out')
        throw new Error(`the message store did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`);
    }
    const answer = receiveMessageOnPort(this.answers)?.message as Answer | undefined;
    if (!answer) throw new Error('the message store thread stopped');
    if (!answer.ok) throw new Error(answer.error);
    return answer;
  }
}
