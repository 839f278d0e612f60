import type { HealthProbe } from '../types.js';
import { runProbe, type ProbeContext, type ProbeResult } from './health-probe.js';

export type HealthChange = 'unhealthy' | 'healthy';

/** Counts consecutive probe failures; tells when the module turns unhealthy or healthy again. */
export class HealthTracker {
  private failures = 0;
  private unhealthy = false;

  constructor(private readonly failureThreshold: number) {}

  get healthy(): boolean {
    return !this.unhealthy;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  record(ok: boolean): HealthChange | undefined {
    if (ok) {
      this.failures = 0;
      if (!this.unhealthy) return undefined;
      this.unhealthy = false;
      return 'healthy';
    }
    this.failures++;
    if (this.unhealthy || this.failures < Math.max(1, this.failureThreshold)) return undefined;
    this.unhealthy = true;
    return 'unhealthy';
  }
}

/**
 * Probes a running module every intervalSecs (the next probe is scheduled when the previous one
 * has finished, so slow probes never pile up) and reports each change of health.
 */
export class HealthMonitor {
  private readonly tracker: HealthTracker;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Why the module is unhealthy, for its statusDescription. */
  description?: string;

  constructor(
    private readonly probe: HealthProbe,
    private readonly context: ProbeContext,
    private readonly onChange: (change: HealthChange) => void,
    private readonly run: (probe: HealthProbe, context: ProbeContext) => Promise<ProbeResult> = runProbe,
  ) {
    this.tracker = new HealthTracker(probe.failureThreshold);
  }

  get healthy(): boolean {
    return this.tracker.healthy;
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(0.05, this.probe.intervalSecs) * 1000);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const result = await this.run(this.probe, this.context);
    if (this.stopped) return;
    const change = this.tracker.record(result.ok);
    if (!result.ok && !this.tracker.healthy) {
      this.description = `health probe failed ${this.tracker.consecutiveFailures} times in a row: ${result.detail}`;
    }
    if (change === 'healthy') this.description = undefined;
    if (change) this.onChange(change);
    this.schedule();
  }
}
