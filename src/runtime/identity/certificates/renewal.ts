/** Share of a certificate's lifetime after which it is renewed. */
export const RENEW_FRACTION = 0.8;

/**
 * When to renew a certificate valid from `notBefore` to `notAfter`: after `fraction` of its lifetime
 * (80% by default), so a renewal that fails has the rest of the lifetime to be retried.
 */
export function renewAt(notBefore: Date, notAfter: Date, fraction = RENEW_FRACTION): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return new Date(notBefore.getTime() + Math.max(0, lifetime) * fraction);
}
