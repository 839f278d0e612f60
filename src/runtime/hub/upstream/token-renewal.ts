/**
 * When an identity's token on a multiplexed upstream connection is put again: a fixed share of its
 * lifetime before it expires (IoT Hub's SDKs renew a one-hour token 15 minutes early), never sooner
 * than a second from now. Pure.
 */

/** Share of a token's lifetime left when it is renewed. */
export const RENEWAL_MARGIN = 0.25;
const MIN_DELAY_MS = 1_000;

/** ms from `nowMs` until the token that expires at `expirySeconds` (s since the epoch) is renewed. */
export function renewalDelayMs(issuedMs: number, expirySeconds: number, nowMs: number): number {
  const lifetimeMs = expirySeconds * 1000 - issuedMs;
  const renewAt = expirySeconds * 1000 - Math.max(0, lifetimeMs) * RENEWAL_MARGIN;
  return Math.max(MIN_DELAY_MS, Math.round(renewAt - nowMs));
}
