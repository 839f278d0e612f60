/**
 * When a refresh asked for by an unknown client may start: never while one runs, and not sooner
 * than `minIntervalMs` after the last such refresh started, so that a flood of CONNECTs with
 * unknown ids is not a flood of queries upstream. Periodic refreshes are neither throttled nor
 * counted. Pure: the caller passes the time.
 */
export class RefreshThrottle {
  private lastStart = -Infinity;
  private running = false;

  constructor(private readonly minIntervalMs: number) {}

  /** Whether a refresh for an unknown client may start at `nowMs`. */
  mayStart(nowMs: number): boolean {
    return !this.running && nowMs - this.lastStart >= this.minIntervalMs;
  }

  started(nowMs: number): void {
    this.running = true;
    this.lastStart = nowMs;
  }

  finished(): void {
    this.running = false;
  }
}
