/** One publish waiting for its acknowledgement. */
interface Waiting {
  done: boolean;
  error: Error | undefined;
  acknowledge(): void;
  fail(error: Error): void;
}

/**
 * The acknowledgements of one connection's telemetry publishes, in the order the publishes
 * arrived (MQTT 3.1.1 has a receiver send its PUBACKs in that order): each publish's work (the hub
 * taking the message, durably) runs at once, its acknowledgement only once it and every earlier
 * one have settled. `pending` counts the publishes still waiting, so the head can stop taking more.
 */
export class OrderedAcks {
  /** Publishes in arrival order; those before `head` are acknowledged already. */
  private waiting: Waiting[] = [];
  private head = 0;
  private idle: (() => void)[] = [];

  get pending(): number {
    return this.waiting.length - this.head;
  }

  /** `acknowledge` after `work` (and every earlier publish) succeeded; `fail` when `work` failed. */
  add(work: Promise<unknown>, acknowledge: () => void, fail: (error: Error) => void): void {
    const entry: Waiting = { done: false, error: undefined, acknowledge, fail };
    this.waiting.push(entry);
    // a handler at once: a failure is never an unhandled rejection while earlier ones still wait
    work.then(
      () => this.settle(entry, undefined),
      (error: Error) => this.settle(entry, error),
    );
  }

  /** Resolves once every publish added so far has been acknowledged or failed. */
  settled(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private settle(entry: Waiting, error: Error | undefined): void {
    entry.done = true;
    entry.error = error;
    while (this.head < this.waiting.length && this.waiting[this.head]!.done) {
      const next = this.waiting[this.head++]!;
      if (next.error) next.fail(next.error);
      else next.acknowledge();
    }
    if (this.head < this.waiting.length) {
      // a connection that always has publishes waiting: drop the acknowledged ones now and then
      if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      return;
    }
    this.waiting = [];
    this.head = 0;
    const idle = this.idle;
    this.idle = [];
    for (const resolve of idle) resolve();
  }
}
