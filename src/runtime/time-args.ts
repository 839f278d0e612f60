/**
 * Log time values as IoT Edge accepts them, from `iotedge logs --since/--until` and in the management
 * API's `since`/`until` query (as IoT Edge 1.1 has it): an RFC3339 timestamp, else integer
 * unix seconds, else a humantime duration meaning "that long ago".
 */

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Date.UTC without its mapping of years 0-99 to 1900-1999. */
function utcMs(year: number, monthIndex: number, day: number, hour = 0, minute = 0, second = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

const daysInMonth = (year: number, month: number): number => new Date(utcMs(year, month, 0)).getUTCDate();

/** Unix seconds of an RFC3339 timestamp (fraction dropped), or undefined if it is not one. */
export function parseRfc3339(text: string): number | undefined {
  const match = RFC3339.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const [offsetSign, offsetHours, offsetMinutes] = [match[9], Number(match[10] ?? 0), Number(match[11] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  // :60 is a leap second: chrono accepts it and counts it as :59.
  const local = utcMs(year, month - 1, day, hour, minute, Math.min(second, 59)) / 1000;
  const offset = (offsetSign === '-' ? -1 : 1) * (offsetHours * 3600 + offsetMinutes * 60);
  return local - offset;
}

/** Seconds per humantime unit (case-sensitive: `m` is minutes, `M` months). */
const UNIT_SECONDS: Record<string, number> = {
  nanos: 1e-9,
  nsec: 1e-9,
  ns: 1e-9,
  usec: 1e-6,
  us: 1e-6,
  µs: 1e-6,
  millis: 1e-3,
  msec: 1e-3,
  ms: 1e-3,
  seconds: 1,
  second: 1,
  secs: 1,
  sec: 1,
  s: 1,
  minutes: 60,
  minute: 60,
  min: 60,
  mins: 60,
  m: 60,
  hours: 3600,
  hour: 3600,
  hr: 3600,
  hrs: 3600,
  h: 3600,
  days: 86_400,
  day: 86_400,
  d: 86_400,
  weeks: 604_800,
  week: 604_800,
  w: 604_800,
  months: 2_630_016, // 30.44 days
  month: 2_630_016,
  M: 2_630_016,
  years: 31_557_600, // 365.25 days
  year: 31_557_600,
  y: 31_557_600,
};

const SPAN = /\s*(\d+)\s*([A-Za-zµ]+)\s*/y;

/**
 * Seconds in a humantime duration (`1 day`, `2 days 3 hours 2 minutes`, `1h`, `1 hour 20m`, `90s`):
 * one or more `<integer><unit>` spans; undefined when the text is not one.
 */
export function parseHumanDuration(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  let seconds = 0;
  SPAN.lastIndex = 0;
  while (SPAN.lastIndex < text.length) {
    const match = SPAN.exec(text);
    if (!match) return undefined;
    const unit = UNIT_SECONDS[match[2]];
    if (unit === undefined) return undefined;
    seconds += Number(match[1]) * unit;
  }
  return Number.isFinite(seconds) && seconds <= Number.MAX_SAFE_INTEGER ? seconds : undefined;
}

/** A time value as unix seconds, or undefined when it is none of the three forms; `now` anchors durations. */
export function parseTimeValue(value: string, now: Date): number | undefined {
  const timestamp = parseRfc3339(value);
  if (timestamp !== undefined) return timestamp;
  if (/^[+-]?\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  const duration = parseHumanDuration(value);
  if (duration !== undefined) return Math.max(0, Math.floor(now.getTime() / 1000 - duration));
  return undefined;
}
