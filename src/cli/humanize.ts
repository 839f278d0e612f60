/**
 * Relative times as IoT Edge 1.1's `iotedge list` prints them: chrono-humanize, precise up to
 * 20 seconds and rough beyond (as IoT Edge 1.1 has it).
 */

export type Tense = 'past' | 'present';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;

/** chrono-humanize's rough text for a duration of `seconds` (whole, non-negative). */
export function roughText(seconds: number): string {
  const n = seconds;
  if (n > 547 * DAY) return plural(Math.max(Math.trunc(n / YEAR), 2), 'year');
  if (n > 345 * DAY) return 'a year';
  if (n > 45 * DAY) return plural(Math.max(Math.trunc(n / MONTH), 2), 'month');
  if (n > 29 * DAY) return 'a month';
  if (n > 10 * DAY + 12 * HOUR) return plural(Math.max(Math.trunc(n / WEEK), 2), 'week');
  if (n > 6 * DAY + 12 * HOUR) return 'a week';
  if (n > 36 * HOUR) return plural(Math.max(Math.trunc(n / DAY), 2), 'day');
  if (n > 22 * HOUR) return 'a day';
  if (n > 90 * MINUTE) return plural(Math.max(Math.trunc(n / HOUR), 2), 'hour');
  if (n > 45 * MINUTE) return 'an hour';
  if (n > 90) return plural(Math.max(Math.trunc(n / MINUTE), 2), 'minute');
  if (n > 45) return 'a minute';
  if (n > 10) return `${n} seconds`;
  return 'now';
}

/** The time between `time` and `now` in words: `3 minutes`, `an hour ago`, `1 second ago`. */
export function humanizeSince(time: Date, now: Date, tense: Tense): string {
  const elapsedMs = Math.abs(now.getTime() - time.getTime());
  const seconds = Math.trunc(elapsedMs / 1000);
  // Precise text up to 20 s is only ever whole seconds.
  const text = elapsedMs <= 20_000 ? plural(seconds, 'second') : roughText(seconds);
  return tense === 'past' ? `${text} ago` : text;
}
