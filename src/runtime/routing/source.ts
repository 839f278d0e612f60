import type { HubMessage } from './message.js';

/**
 * A route's FROM clause. Matching is IoT Edge's: trailing `*` dropped, a `/` appended, then a
 * case-insensitive prefix test against the message source plus `/`. So `/messages/modules/m1/*`
 * matches m1 with or without an output, and a `*` in the middle is a literal character.
 */
export interface RouteSource {
  /** As written in the route. */
  readonly text: string;
  /** Lower-cased prefix, always ending in `/`. */
  readonly prefix: string;
}

/** Characters IoT Edge's grammar does not allow in a source segment. */
const FORBIDDEN = /[()<>@,;:\\"[\]?={}\s]/;

/** Validates a FROM clause; returns the problem as a string when it is not a source. */
export function parseSource(text: string): RouteSource | string {
  if (!text.startsWith('/')) return `the source must start with '/', found '${text}'`;
  const bad = FORBIDDEN.exec(text);
  if (bad !== null) return `invalid character ${JSON.stringify(bad[0])} in the source '${text}'`;
  const segments = text.replace(/\/$/, '').split('/').slice(1);
  if (text !== '/' && segments.some((segment) => segment === ''))
    return `empty segment in the source '${text}'`;
  let prefix = text.replace(/\*+$/, '');
  if (!prefix.endsWith('/')) prefix += '/';
  return { text, prefix: prefix.toLowerCase() };
}

/** The key a message is matched by: its source plus `/`, lower-cased. Compute once per message. */
export function sourceKey(message: HubMessage): string {
  return `${message.source}/`.toLowerCase();
}

export function sourceMatches(source: RouteSource, key: string): boolean {
  return key.startsWith(source.prefix);
}

/** Twin change notifications can reach this source, so twin_change_includes may be used. */
export function receivesTwinChanges(source: RouteSource): boolean {
  return '/twinchangenotifications/'.startsWith(source.prefix);
}
