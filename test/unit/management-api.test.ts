import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLogOptions } from '../../src/runtime/daemon/management-api.js';
import { ApiError } from '../../src/runtime/daemon/management-types.js';

const now = new Date('2024-06-01T12:00:00.750Z');
const nowSeconds = Math.floor(now.getTime() / 1000);
const options = (query: string) => parseLogOptions(new URLSearchParams(query), now);

test('logs query defaults: no follow, no timestamps, whole log, no time bounds', () => {
  assert.deepEqual(options(''), {
    follow: false,
    timestamps: false,
    tail: undefined,
    since: undefined,
    until: undefined,
  });
  assert.deepEqual(options('follow=true&timestamps=true&tail=25&since=&until='), {
    follow: true,
    timestamps: true,
    tail: 25,
    since: undefined,
    until: undefined,
  });
});

test('since and until accept unix seconds', () => {
  const parsed = options('since=1714557600&until=0');
  assert.equal(parsed.since, 1_714_557_600);
  assert.equal(parsed.until, 0);
});

test('since and until accept RFC 3339 timestamps', () => {
  const parsed = options(
    `since=${encodeURIComponent('2024-05-01T10:00:00Z')}&until=${encodeURIComponent('2024-05-01T12:30:00.5+02:30')}`,
  );
  assert.equal(parsed.since, Date.UTC(2024, 4, 1, 10) / 1000);
  assert.equal(parsed.until, Date.UTC(2024, 4, 1, 10) / 1000);
});

test('since and until accept human durations, meaning that long before now', () => {
  const parsed = options(`since=${encodeURIComponent('1 day')}&until=${encodeURIComponent('1h 30m')}`);
  assert.equal(parsed.since, nowSeconds - 86_400);
  assert.equal(parsed.until, nowSeconds - 5400);
  assert.equal(options('since=2+days+3+hours').since, nowSeconds - 2 * 86_400 - 3 * 3600);
});

test('a malformed since, until, tail or boolean is a 400 naming the parameter', () => {
  for (const [query, name] of [
    ['since=yesterday', 'since'],
    ['since=1.5h', 'since'],
    [`since=${encodeURIComponent('2024-05-01T10:00:00')}`, 'since'],
    ['until=1+fortnight', 'until'],
    ['tail=-1', 'tail'],
    ['follow=yes', 'follow'],
  ]) {
    assert.throws(
      () => options(query),
      (error: unknown) =>
        error instanceof ApiError &&
        error.status === 400 &&
        error.message === `The request parameter \`${name}\` is malformed`,
      query,
    );
  }
});
