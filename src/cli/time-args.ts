import { parseTimeValue } from '../runtime/time-args.js';
import { CliError } from './cli-error.js';

/** The forms `--since` and `--until` take, named when a value is none of them. */
export const TIME_FORMS =
  'an RFC 3339 time (2026-01-31T18:00:00Z), unix seconds (1769882400) or a duration meaning that long ago (90s, 15m, 2h, 1 day, 1h 30m)';

/** A `--since` / `--until` value as unix seconds (the forms of TIME_FORMS); `now` anchors durations. */
export function parseTimeArg(value: string, flag: 'since' | 'until', now: Date): number {
  const seconds = parseTimeValue(value, now);
  if (seconds === undefined) {
    throw new CliError(`Invalid value for --${flag} parameter: '${value}'. Use ${TIME_FORMS}.`);
  }
  return seconds;
}

/** `--tail`: `all` or a non-negative integer. */
export function parseTail(value: string): 'all' | number {
  if (value === 'all') return 'all';
  if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  throw new CliError(`Invalid value for --tail parameter: '${value}'. Use a number of lines or all.`);
}
