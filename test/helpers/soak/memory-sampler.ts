import { cpuSeconds, memory } from '../proc-stats.js';
import { metricSum, scrapeMetrics } from './hub-metrics.js';
import type { SoakSample } from './rss-trend.js';
import type { Traffic } from './traffic.js';

const MB = 1e6;
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Takes a SoakSample of the daemon `pid` every `everyMs`, from /proc and the hub's metrics. */
export class MemorySampler {
  readonly samples: SoakSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private cpuAtStart = 0;

  constructor(
    private readonly pid: number,
    private readonly metricsPort: number,
    private readonly traffic: Traffic,
    private readonly onSample: (sample: SoakSample) => void = () => undefined,
  ) {}

  /** The daemon's CPU seconds since start(). */
  get cpuSeconds(): number {
    const cpu = cpuSeconds(this.pid);
    return cpu.user + cpu.system - this.cpuAtStart;
  }

  /** Samples now, then every `everyMs` until stop(). */
  async start(everyMs: number): Promise<void> {
    const cpu = cpuSeconds(this.pid);
    this.cpuAtStart = cpu.user + cpu.system;
    await this.sample();
    this.timer = setInterval(() => void this.sample(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One sample; a daemon that is gone ends the sampling (the driver notices it exited). */
  async sample(): Promise<void> {
    let rss;
    let cpu;
    try {
      rss = memory(this.pid);
      cpu = this.cpuSeconds;
    } catch {
      return this.stop();
    }
    const t_s = this.traffic.elapsedMs / 1000;
    const sent = this.traffic.sent;
    const received = this.traffic.received.unique;
    const max_latency_ms = this.traffic.takeMaxLatencyMs();
    const upstream_held = await scrapeMetrics(this.metricsPort).then(
      (text) => metricSum(text, 'edgehub_queue_length', { endpoint: '$upstream' }),
      () => Number.NaN,
    );
    const sample: SoakSample = {
      t_s: round(t_s, 1),
      rss_mb: round(rss.rss / MB),
      rss_anon_mb: round(rss.rssAnon / MB),
      daemon_cpu_s: round(cpu),
      sent,
      received,
      upstream_held,
      max_latency_ms: round(max_latency_ms, 1),
    };
    this.samples.push(sample);
    this.onSample(sample);
  }
}
