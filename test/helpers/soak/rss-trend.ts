import { leastSquares } from './linear-fit.js';

/** One look at the daemon while the soak runs. Memory in MB (10^6 bytes). */
export interface SoakSample {
  /** Seconds since the load started. */
  t_s: number;
  rss_mb: number;
  /** The anonymous part of the resident set: heaps and buffers, without the executable's pages. */
  rss_anon_mb: number;
  /** The daemon's CPU seconds (user + kernel) since the load started. */
  daemon_cpu_s: number;
  sent: number;
  received: number;
  /** Messages `$upstream` holds (the hub's edgehub_queue_length); NaN when the scrape failed. */
  upstream_held: number;
  /** The longest publish-to-receipt time since the previous sample. */
  max_latency_ms: number;
}

export interface RssTrend {
  /** Least-squares slopes over the samples after the warm-up, MB per hour. */
  rss_mb_per_hour: number;
  rss_anon_mb_per_hour: number;
  r2: number;
  fitted_from_s: number;
  fitted_samples: number;
}

/**
 * The warm-up left out of the fit: the first 10% of the run, and at least two minutes, while code
 * is optimized, `$upstream` fills to its TTL's plateau and V8 grows its heap to its working size
 * (seen as one step of 15 to 20 MB somewhere between 30 s and 60 s into the load, later on a busy
 * machine: a fit that starts just before it would read that step as a trend).
 */
export function warmupSeconds(durationSeconds: number): number {
  // a run shorter than four minutes (SOAK_MINUTES while developing) is fitted over its second half
  return Math.min(Math.max(120, durationSeconds / 10), durationSeconds / 2);
}

/** The slope of RSS (and of its anonymous part) against time, fitted after `warmupS`. */
export function rssTrend(samples: readonly SoakSample[], warmupS: number): RssTrend {
  const fitted = samples.filter((sample) => sample.t_s >= warmupS);
  const line = (value: (sample: SoakSample) => number) =>
    leastSquares(fitted.map((sample) => ({ x: sample.t_s / 3600, y: value(sample) })));
  const rss = line((sample) => sample.rss_mb);
  return {
    rss_mb_per_hour: rss.slope,
    rss_anon_mb_per_hour: line((sample) => sample.rss_anon_mb).slope,
    r2: rss.r2,
    fitted_from_s: warmupS,
    fitted_samples: fitted.length,
  };
}

/** The sample nearest each whole minute (and the last one), for a report one row a minute. */
export function perMinute(samples: readonly SoakSample[]): SoakSample[] {
  if (samples.length === 0) return [];
  const last = samples[samples.length - 1]!;
  const rows: SoakSample[] = [];
  for (let minute = 0; minute * 60 <= last.t_s; minute++) {
    const nearest = samples.reduce((best, sample) =>
      Math.abs(sample.t_s - minute * 60) < Math.abs(best.t_s - minute * 60) ? sample : best,
    );
    if (rows[rows.length - 1] !== nearest) rows.push(nearest);
  }
  if (rows[rows.length - 1] !== last) rows.push(last);
  return rows;
}
