import type { HubMessage } from '../../routing/message.js';
import type { EnqueueOptions } from './endpoint.js';
import type { StoredMessage } from './message-store.js';

/** How often push() also drops the expired messages at the heads of the FIFOs. */
const SWEEP_INTERVAL_MS = 1000;

/**
 * One FIFO per priority; take() always serves the highest priority (lowest number) first and
 * drops what has expired. A queue nobody takes from (`$upstream` before an upstream exists, the
 * input of a module that is away) still lets its messages go at their TTL: at most once a second,
 * push() drops the expired messages at the head of each FIFO (up to the first one still alive),
 * so what it holds is bounded by rate × TTL instead of growing forever.
 */
export class PriorityQueue {
  private readonly queues = new Map<number, StoredMessage[]>();
  private priorities: number[] = [];
  private count = 0;
  private nextOffset = 0;
  private nextSweep = Number.NEGATIVE_INFINITY;
  expired = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly onExpired: (entry: StoredMessage) => void = () => undefined,
  ) {}

  get size(): number {
    return this.count;
  }

  /** When the oldest message held came in (each FIFO's head is its oldest); undefined when empty. */
  get oldestEnqueuedAt(): number | undefined {
    let oldest: number | undefined;
    for (const queue of this.queues.values()) {
      const head = queue[0];
      if (head && (oldest === undefined || head.enqueuedAt < oldest)) oldest = head.enqueuedAt;
    }
    return oldest;
  }

  push(message: HubMessage, { priority, timeToLiveSecs }: EnqueueOptions): StoredMessage {
    const now = this.now();
    if (now >= this.nextSweep) {
      this.nextSweep = now + SWEEP_INTERVAL_MS;
      this.dropExpired(now);
    }
    const entry: StoredMessage = {
      message,
      priority,
      enqueuedAt: now,
      expiresAt: now + timeToLiveSecs * 1000,
      offset: this.nextOffset++,
    };
    this.queueOf(priority).push(entry);
    this.count++;
    return entry;
  }

  /** Puts a taken entry back into its FIFO, at the place its offset gives it (near the head). */
  putBack(entry: StoredMessage): void {
    const queue = this.queueOf(entry.priority);
    let at = 0;
    while (at < queue.length && queue[at]!.offset < entry.offset) at++;
    queue.splice(at, 0, entry);
    this.count++;
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
      for (const entry of dropped) this.onExpired(entry);
    }
  }

  take(): StoredMessage | undefined {
    const now = this.now();
    for (const priority of this.priorities) {
      const queue = this.queues.get(priority)!;
      while (queue.length > 0) {
        const entry = queue.shift()!;
        this.count--;
        if (entry.expiresAt <= now) {
          this.expired++;
          this.onExpired(entry);
          continue;
        }
        return entry;
      }
    }
    return undefined;
  }

  private queueOf(priority: number): StoredMessage[] {
    let queue = this.queues.get(priority);
    if (!queue) {
      queue = [];
      this.queues.set(priority, queue);
      this.priorities = [...this.queues.keys()].sort((a, b) => a - b);
    }
    return queue;
  }
}
