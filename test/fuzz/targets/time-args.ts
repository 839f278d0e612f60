/**
 * Log time values and tails, from `iotedge logs --since/--until/--tail` and the management API's
 * logs query: a value is read as a finite number of seconds or refused with the documented error,
 * and RFC 3339 timestamps and humantime durations mean what they say.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { CliError } from '../../../src/cli/cli-error.js';
import { parseTail, parseTimeArg } from '../../../src/cli/time-args.js';
import { parseLogOptions } from '../../../src/runtime/daemon/management-api.js';
import { ApiError } from '../../../src/runtime/daemon/management-types.js';
import { parseTimeValue } from '../../../src/runtime/time-args.js';
import { nastyString, textOf } from '../support/arbitraries.js';
import { assertDocumentedError } from '../support/messages.js';
import { target } from '../support/target.js';

const NOW = new Date('2030-06-01T12:00:00.500Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

const TIME_WORDS = [
  '2024-05-01T10:00:00Z', '2024-02-30T00:00:00Z', '0000-01-01T00:00:00+23:59', '9999-12-31T23:59:60.999-00:00',
  '1', '0', '-1', '+5', '9007199254740993', '1e3', '1.5', 'h', 'm', 'M', 's', 'ms', 'µs', 'days', 'day', 'y',
  'constructor', 'toString', '__proto__', 'hours', ' ', 'T', 'Z', ':', '-', '.', 'all', '99999999999999999999',
]; // prettier-ignore

const timeText = fc.oneof(textOf(TIME_WORDS, 6), nastyString(30));

/** An RFC 3339 timestamp of `date` seen from an offset of `offsetMinutes`. */
function rfc3339(date: Date, offsetMinutes: number, fraction: string): string {
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const offset = Math.abs(offsetMinutes);
  return (
    `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T` +
    `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction}` +
    `${sign}${pad(Math.floor(offset / 60))}:${pad(offset % 60)}`
  );
}

const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  m: 60,
  min: 60,
  h: 3600,
  hours: 3600,
  d: 86_400,
  w: 604_800,
};

export const targets = [
  target({
    name: 'parseTimeArg: random --since and --until values',
    runs: 4000,
    arbitrary: () => fc.tuple(timeText, fc.constantFrom('since', 'until') as fc.Arbitrary<'since' | 'until'>),
    check: ([value, flag]: [string, 'since' | 'until']) => {
      try {
        const seconds = parseTimeArg(value, flag, NOW);
        assert.ok(Number.isFinite(seconds), `${value} is a finite number of seconds, found ${seconds}`);
      } catch (error) {
        assertDocumentedError(error, [CliError], { input: value });
      }
    },
  }),
  target({
    name: 'parseTail: random --tail values',
    runs: 2000,
    arbitrary: () => timeText,
    check: (value: string) => {
      try {
        const tail = parseTail(value);
        assert.ok(tail === 'all' || Number.isSafeInteger(tail));
      } catch (error) {
        assertDocumentedError(error, [CliError], { input: value });
      }
    },
  }),
  target({
    name: 'parseLogOptions: random logs queries',
    runs: 3000,
    arbitrary: () =>
      fc.array(fc.tuple(fc.constantFrom('since', 'until', 'tail', 'follow', 'timestamps', 'x'), timeText), {
        maxLength: 5,
      }),
    check: (pairs: [string, string][]) => {
      try {
        const options = parseLogOptions(new URLSearchParams(pairs), NOW);
        for (const value of [options.since, options.until, options.tail]) {
          assert.ok(value === undefined || Number.isFinite(value), `a finite number, found ${value}`);
        }
      } catch (error) {
        assertDocumentedError(error, [ApiError], { input: JSON.stringify(pairs) });
        assert.equal((error as ApiError).status, 400);
      }
    },
  }),
  target({
    name: 'parseTimeValue: RFC 3339 timestamps of any instant and offset',
    runs: 2000,
    arbitrary: () =>
      fc.tuple(
        fc.date({
          min: new Date('0001-01-02T00:00:00Z'),
          max: new Date('9999-12-30T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
        fc.constantFrom('', '.5', '.999999999'),
      ),
    check: ([date, offset, fraction]: [Date, number, string]) => {
      const text = rfc3339(date, offset, fraction);
      assert.equal(parseTimeValue(text, NOW), Math.floor(date.getTime() / 1000), text);
    },
  }),
  target({
    name: 'parseTimeValue: humantime durations mean that long before now',
    runs: 2000,
    arbitrary: () =>
      fc.array(fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(...Object.keys(UNITS))), {
        minLength: 1,
        maxLength: 4,
      }),
    check: (spans: [number, string][]) => {
      const text = spans.map(([count, unit]) => `${count}${unit}`).join(' ');
      const seconds = spans.reduce((sum, [count, unit]) => sum + count * UNITS[unit]!, 0);
      assert.equal(parseTimeValue(text, NOW), Math.max(0, NOW_SECONDS - seconds), text);
    },
  }),
];
