export interface GroupCommitOptions {
  /** After a failed run that nobody asked to repeat, how long until it is tried again. */
  retryMs?: number;
  /** Told of the first failure after a success (a full disk is told once, not at every retry). */
  onError?: (error: Error) => void;
  /** Told when a run succeeds after `failures` failed ones. */
  onRecovered?: (failures: number) => void;
}

/**
 * Runs one save task for many callers. A call while the task runs joins the run queued behind it,
 * so n calls at once cost at most two runs, and every caller hears how a run that started after
 * its call went: that run has seen its change. A failed run rejects its callers and leaves the
 * next run free to try; when no call comes, it is tried again after `retryMs`, so that changes
 * still only in memory reach the disk once the fault (a full disk) is gone.
 */
export class GroupCommit {
  private running: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly options: GroupCommitOptions = {},
  ) {}

  /** Resolves once a run that started after this call has succeeded; rejects with its error. */
  run(): Promise<void> {
    if (this.queued) return this.queued;
    clearTimeout(this.retry);
    this.retry = undefined;
    const queued = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.task();
      });
    this.queued = queued;
    this.running = queued;
    // a caller may ignore the outcome: a failure is never an unhandled rejection
    queued.then(
      () => this.succeeded(),
      (error: Error) => this.failed(error),
    );
    return queued;
  }

  /** Resolves once the runs asked for so far have ended, whatever their outcome. */
  idle(): Promise<void> {
    return this.running.catch(() => undefined);
  }

  /**
   * Resolves once every run asked for so far has ended, after one more try when the last one
   * failed. Never rejects: a failure goes to onError. (The retry timer never keeps the process up.)
   */
  async flush(): Promise<void> {
    await this.running.catch(() => undefined);
    if (this.failures > 0) await this.run().catch(() => undefined);
  }

  private succeeded(): void {
    if (this.failures > 0) this.options.onRecovered?.(this.failures);
    this.failures = 0;
  }

  private failed(error: Error): void {
    if (this.failures++ === 0) this.options.onError?.(error);
    if (this.queued || this.options.retryMs === undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.run().catch(() => undefined);
    }, this.options.retryMs);
    this.retry.unref();
  }
}
