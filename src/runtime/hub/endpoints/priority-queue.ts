import type { HubMessage } from '../message.js';
import type { EnqueueOptions } from './endpoint.js';

export interface Queued {
  message: HubMessage;
  /** ms since the epoch after which the message is dropped instead of sent. */
  expiresAt: number;
  enqueuedAt: number;
}

/** How often push() also drops the expired messages at the heads of the FIFOs. */
const SWEEP_INTERVAL_MS = 1000;

/**
 * One FIFO per priority; take() always serves the highest priority (lowest number) first and
 * drops what has expired. TTL is stamped at enqueue time, so later route changes do not touch
 * messages already held (as IoT Edge does). A queue nobody takes from (`$upstream` before an
 * upstream exists, the input of a module that is away) still lets its messages go at their TTL:
 * at most once a second, push() drops the expired messages at the head of each FIFO (up to the
 * first one still alive), so what it holds is bounded by rate × TTL instead of growing forever.
 */
export class PriorityQueue {
  private readonly queues = new Map<number, Queued[]>();
  private priorities: number[] = [];
  private count = 0;
  private nextSweep = Number.NEGATIVE_INFINITY;
  expired = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly onExpired: (message: HubMessage) => void = () => undefined,
  ) {}

  get size(): number {
    return this.count;
  }

  push(message: HubMessage, { priority, timeToLiveSecs }: EnqueueOptions): void {
    const now = this.now();
    if (now >= this.nextSweep) {
      this.nextSweep = now + SWEEP_INTERVAL_MS;
      this.dropExpired(now);
    }
    this.pushItem({ message, enqueuedAt: now, expiresAt: now + timeToLiveSecs * 1000 }, priority);
  }

  /** Drops the expired messages at the head of each FIFO, up to the first one still alive. */
  dropExpired(now = this.now()): void {
    for (const queue of this.queues.values()) {
      let expired = 0;
      while (expired < queue.length && queue[expired]!.expiresAt <= now) expired++;
      if (expired === 0) continue;
      const dropped = queue.splice(0, expired);
      this.count -= expired;
      this.expired += expired;
      for (const item of dropped) this.onExpired(item.message);
    }
  }

  take(): { item: Queued; priority: number } | undefined {
    const now = this.now();
    for (const priority of this.priorities) {
      const queue = this.queues.get(priority)!;
      while (queue.length > 0) {
        const item = queue.shift()!;
        this.count--;
        if (item.expiresAt <= now) {
          this.expired++;
          this.onExpired(item.message);
          continue;
        }
        return { item, priority };
      }
    }
    return undefined;
  }

  private pushItem(item: Queued, priority: number): void {
    this.queueOf(priority).push(item);
    this.count++;
  }

  private queueOf(priority: number): Queued[] {
    let queue = this.queues.get(priority);
    if (!queue) {
      queue = [];
      this.queues.set(priority, queue);
      this.priorities = [...this.queues.keys()].sort((a, b) => a - b);
    }
    return queue;
  }
}
