/**
 * Counts events that must not each write a log line (connections refused or cut under attack): the
 * first is reported at once, later ones at most once per interval, each report with the number of
 * events since the previous one.
 */
export class ThrottledCount {
  private unreported = 0;
  private lastReport = Number.NEGATIVE_INFINITY;
  total = 0;

  constructor(private readonly intervalMs = 60_000) {}

  /** One more event at `nowMs`: the count to report now, or undefined to stay quiet. */
  add(nowMs: number): number | undefined {
    this.total++;
    this.unreported++;
    if (nowMs - this.lastReport < this.intervalMs) return undefined;
    this.lastReport = nowMs;
    const count = this.unreported;
    this.unreported = 0;
    return count;
  }
}
