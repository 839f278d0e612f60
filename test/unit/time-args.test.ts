import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTail, parseTimeArg } from '../../src/cli/time-args.js';
import { parseHumanDuration, parseRfc3339, parseTimeValue } from '../../src/runtime/time-args.js';

const now = new Date('2024-06-01T12:00:00.750Z');
const nowSeconds = Math.floor(now.getTime() / 1000);

test('RFC3339 timestamps come first, with Z or an offset, fraction dropped', () => {
  assert.equal(parseTimeArg('2024-05-01T10:00:00Z', 'since', now), Date.UTC(2024, 4, 1, 10) / 1000);
  assert.equal(parseTimeArg('2024-05-01T10:00:00.999999999Z', 'since', now), Date.UTC(2024, 4, 1, 10) / 1000);
  assert.equal(parseTimeArg('2024-05-01T12:30:00+02:30', 'since', now), Date.UTC(2024, 4, 1, 10) / 1000);
  assert.equal(parseTimeArg('2024-05-01T07:00:00-03:00', 'until', now), Date.UTC(2024, 4, 1, 10) / 1000);
  assert.equal(parseRfc3339('2024-05-01t10:00:00z'), Date.UTC(2024, 4, 1, 10) / 1000);
  assert.equal(parseRfc3339('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29) / 1000);
  assert.equal(parseRfc3339('0050-01-01T00:00:00Z'), -60589296000);
  // A leap second counts as :59, as chrono's timestamp() has it.
  assert.equal(parseRfc3339('2016-12-31T23:59:60Z'), Date.UTC(2016, 11, 31, 23, 59, 59) / 1000);
});

test('impossible dates and times are not RFC3339', () => {
  for (const text of [
    '2023-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T10:60:00Z',
    '2024-05-01T10:00:61Z',
    '2024-05-01T10:00:00',
    '2024-05-01T10:00:00+0200',
    '2024-05-01',
  ]) {
    assert.equal(parseRfc3339(text), undefined, text);
    assert.throws(
      () => parseTimeArg(text, 'since', now),
      /^CliError: Invalid value for --since parameter: '.*'\. Use an RFC 3339 time .* unix seconds .* or a duration/,
      text,
    );
  }
});

test('integers are unix seconds', () => {
  assert.equal(parseTimeArg('1700000000', 'since', now), 1_700_000_000);
  assert.equal(parseTimeArg('0', 'since', now), 0);
  assert.equal(parseTimeArg('+7', 'since', now), 7);
  assert.equal(parseTimeArg('-5', 'since', now), -5);
});

test('humantime durations mean that long before now', () => {
  const cases: [string, number][] = [
    ['1 day', 86_400],
    ['1d', 86_400],
    ['90 minutes', 5400],
    ['2 days 3 hours 2 minutes', 2 * 86_400 + 3 * 3600 + 120],
    ['1h', 3600],
    ['1 hour 20m', 4800],
    ['1h30m', 5400],
    ['10s', 10],
    ['10sec', 10],
    ['3 weeks', 3 * 604_800],
    ['1M', 2_630_016],
    ['1m', 60],
    ['2y', 2 * 31_557_600],
    ['  5 min  ', 300],
  ];
  for (const [text, seconds] of cases) {
    assert.equal(parseHumanDuration(text), seconds, text);
    assert.equal(parseTimeArg(text, 'since', now), nowSeconds - seconds, text);
  }
});

test('sub-second durations are counted and the result is floored to a whole second', () => {
  assert.equal(parseHumanDuration('500ms'), 0.5);
  assert.equal(parseTimeArg('500ms', 'since', now), nowSeconds);
  assert.equal(parseTimeArg('800ms', 'since', now), nowSeconds - 1);
  assert.ok(Math.abs((parseHumanDuration('1s 250us 3ns') ?? 0) - 1.000250003) < 1e-12);
});

test('a duration longer than the epoch clamps to 0', () => {
  assert.equal(parseTimeArg('100 years', 'since', now), 0);
});

test('anything else is an invalid value naming the flag', () => {
  for (const text of [
    '',
    ' ',
    'yesterday',
    '1.5h',
    '1 fortnight',
    'h',
    '-1h',
    '1 h x',
    '10 10',
    '1H',
    '1_000s',
  ]) {
    assert.equal(parseHumanDuration(text), undefined, text);
    assert.equal(parseTimeValue(text, now), undefined, text);
    assert.throws(
      () => parseTimeArg(text, 'since', now),
      /^CliError: Invalid value for --since parameter: '.*'\. Use an RFC 3339 time .* unix seconds .* or a duration/,
      text,
    );
    assert.throws(
      () => parseTimeArg(text, 'until', now),
      /^CliError: Invalid value for --until parameter: '.*'\. Use an RFC 3339 time .* unix seconds .* or a duration/,
      text,
    );
  }
});

test('--tail is all or a non-negative integer', () => {
  assert.equal(parseTail('all'), 'all');
  assert.equal(parseTail('0'), 0);
  assert.equal(parseTail('250'), 250);
  for (const text of ['', '-1', 'ten', '1.5', 'all5', '99999999999999999999']) {
    assert.throws(
      () => parseTail(text),
      /^CliError: Invalid value for --tail parameter: '.*'\. Use a number of lines or all\.$/,
      text,
    );
  }
});
