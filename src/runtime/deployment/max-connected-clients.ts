/**
 * edgeHub's `MaxConnectedClients` environment variable: how many client identities may be connected
 * at once, edgeHub itself included (so the default 101 admits 100 downstream clients).
 */
export const DEFAULT_MAX_CONNECTED_CLIENTS = 101;

/** The limit, the default when the variable is not set, or the problem with its value. */
export function parseMaxConnectedClients(env: Record<string, string>): number | { problem: string } {
  const value = env.MaxConnectedClients;
  if (value === undefined) return DEFAULT_MAX_CONNECTED_CLIENTS;
  const text = value.trim();
  const limit = /^\+?\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(limit) || limit < 1) {
    return {
      problem: `${JSON.stringify(value)} is not a whole number of clients of at least 1 (edgeHub included; default ${DEFAULT_MAX_CONNECTED_CLIENTS})`,
    };
  }
  return limit;
}

/**
 * Why a connection of `identityId` is refused under `limit` (edgeHub's own identity counts as one),
 * or undefined when it is admitted: an identity already connected replaces its own connection and is
 * never refused; a new one is refused once `connected` identities fill the remaining places.
 */
export function connectionLimitRefusal(
  limit: number,
  connected: { readonly size: number; has(identityId: string): boolean },
  identityId: string,
): string | undefined {
  if (connected.has(identityId) || connected.size + 1 < limit) return undefined;
  return `the Edge Hub already has the maximum allowed clients (${limit - 1}) connected (MaxConnectedClients ${limit}, edgeHub included)`;
}
