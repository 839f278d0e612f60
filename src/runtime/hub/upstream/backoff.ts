/**
 * How long the upstream link waits before its next connection attempt: exponential from one second,
 * doubling per failed attempt, capped at a minute, with "equal jitter" (half the delay fixed, half
 * random) so that many devices that lost the same parent do not come back in step. Pure.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const UPSTREAM_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 60_000 };

/** The delay before attempt `failures + 1`; `random` returns a number in [0, 1). */
export function reconnectDelayMs(
  failures: number,
  random: () => number = Math.random,
  options: BackoffOptions = UPSTREAM_BACKOFF,
): number {
  const exponent = Math.min(Math.max(0, Math.floor(failures)), 30);
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** exponent);
  const half = ceiling / 2;
  return Math.round(half + half * Math.min(Math.max(random(), 0), 1));
}
