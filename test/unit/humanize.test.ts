import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanizeSince, roughText } from '../../src/cli/humanize.js';

const now = new Date('2024-06-01T12:00:00.000Z');
const ago = (ms: number): Date => new Date(now.getTime() - ms);
const s = 1000;
const MIN = 60 * s;
const H = 60 * MIN;
const D = 24 * H;

test('up to 20 seconds the text is precise whole seconds', () => {
  assert.equal(humanizeSince(ago(0), now, 'present'), '0 seconds');
  assert.equal(humanizeSince(ago(999), now, 'present'), '0 seconds');
  assert.equal(humanizeSince(ago(1 * s), now, 'present'), '1 second');
  assert.equal(humanizeSince(ago(1 * s), now, 'past'), '1 second ago');
  assert.equal(humanizeSince(ago(2 * s), now, 'past'), '2 seconds ago');
  assert.equal(humanizeSince(ago(10 * s), now, 'present'), '10 seconds');
  assert.equal(humanizeSince(ago(20 * s), now, 'present'), '20 seconds');
});

test('beyond 20 seconds the text is rough, at every chrono-humanize boundary', () => {
  const cases: [number, string][] = [
    [20 * s + 500, '20 seconds'],
    [21 * s, '21 seconds'],
    [45 * s, '45 seconds'],
    [46 * s, 'a minute'],
    [90 * s, 'a minute'],
    [91 * s, '2 minutes'],
    [179 * s, '2 minutes'],
    [180 * s, '3 minutes'],
    [45 * MIN, '45 minutes'],
    [45 * MIN + s, 'an hour'],
    [90 * MIN, 'an hour'],
    [90 * MIN + s, '2 hours'],
    [22 * H, '22 hours'],
    [22 * H + s, 'a day'],
    [36 * H, 'a day'],
    [36 * H + s, '2 days'],
    [6 * D + 12 * H, '6 days'],
    [6 * D + 12 * H + s, 'a week'],
    [10 * D + 12 * H, 'a week'],
    [10 * D + 12 * H + s, '2 weeks'],
    [21 * D, '3 weeks'],
    [29 * D, '4 weeks'],
    [29 * D + s, 'a month'],
    [45 * D, 'a month'],
    [45 * D + s, '2 months'],
    [90 * D, '3 months'],
    [345 * D, '11 months'],
    [345 * D + s, 'a year'],
    [547 * D, 'a year'],
    [547 * D + s, '2 years'],
    [1095 * D, '3 years'],
  ];
  for (const [ms, text] of cases) {
    assert.equal(humanizeSince(ago(ms), now, 'present'), text, `${ms} ms`);
    assert.equal(humanizeSince(ago(ms), now, 'past'), `${text} ago`, `${ms} ms, past`);
  }
});

test('a time in the future (clock skew) reads like the same time in the past', () => {
  assert.equal(humanizeSince(new Date(now.getTime() + 5 * s), now, 'present'), '5 seconds');
  assert.equal(humanizeSince(new Date(now.getTime() + 3 * H), now, 'past'), '3 hours ago');
});

test('rough text of 10 seconds or less is "now" (never shown by list, which is precise there)', () => {
  assert.equal(roughText(0), 'now');
  assert.equal(roughText(10), 'now');
  assert.equal(roughText(11), '11 seconds');
});
