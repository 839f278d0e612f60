import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ThrottledCount } from '../../src/runtime/daemon/throttled-count.js';

test('the first event is reported at once, later ones at most once an interval, with their count', () => {
  const count = new ThrottledCount(60_000);
  assert.equal(count.add(1_000), 1);
  assert.equal(count.add(2_000), undefined);
  assert.equal(count.add(30_000), undefined);
  assert.equal(count.add(60_999), undefined);
  // the four events since the last report
  assert.equal(count.add(61_000), 4);
  assert.equal(count.add(200_000), 1);
  assert.equal(count.total, 6);
});
