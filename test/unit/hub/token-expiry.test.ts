import assert from 'node:assert/strict';
import { mock, test } from 'node:test';

import { MAX_TIMER_MS, expiryDelay, watchExpiry } from '../../../src/runtime/hub/session/token-expiry.js';

test('the delay runs to the expiry, never below 0 nor beyond what one timer holds', () => {
  assert.equal(expiryDelay(10_000, 4_000), 6_000);
  assert.equal(expiryDelay(4_000, 10_000), 0);
  // a token valid for a year: looked at again in about 24.8 days
  assert.equal(expiryDelay(365 * 86_400_000, 0), MAX_TIMER_MS);
});

test('one timer per connection: expired once the time has come, and not when stopped', (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  const start = Date.now();
  let expired = 0;
  watchExpiry(new Date(start + 5_000), () => expired++);
  mock.timers.tick(4_999);
  assert.equal(expired, 0);
  mock.timers.tick(1);
  assert.equal(expired, 1);

  let stoppedExpired = 0;
  const stop = watchExpiry(new Date(Date.now() + 1_000), () => stoppedExpired++);
  stop();
  mock.timers.tick(10_000);
  assert.equal(stoppedExpired, 0);
});

test('an expiry beyond one timer is reached in several', (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  t.after(() => mock.timers.reset());
  let expired = 0;
  const at = Date.now() + MAX_TIMER_MS * 2 + 10;
  watchExpiry(new Date(at), () => expired++);
  mock.timers.tick(MAX_TIMER_MS);
  mock.timers.tick(MAX_TIMER_MS);
  assert.equal(expired, 0, 'not at the end of the first two timers');
  mock.timers.tick(10);
  assert.equal(expired, 1);
});
