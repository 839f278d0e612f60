/** The longest delay a Node timer holds (about 24.8 days); a later expiry is looked at again then. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long to wait before looking at an expiry again: until it, but never longer than a timer holds. */
export function expiryDelay(expiresAtMs: number, nowMs: number): number {
  return Math.min(Math.max(expiresAtMs - nowMs, 0), MAX_TIMER_MS);
}

/**
 * One timer for one connection: calls `expired` once `expiresAt` has passed (a timer that wakes
 * early, or before an expiry too far for one timer, sets itself again). Returns the function that
 * stops watching.
 */
export function watchExpiry(expiresAt: Date, expired: () => void, now: () => number = Date.now): () => void {
  const at = expiresAt.getTime();
  let timer: NodeJS.Timeout;
  const arm = () => {
    timer = setTimeout(() => (now() >= at ? expired() : arm()), expiryDelay(at, now()));
    // an expiry alone never keeps the daemon running
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
