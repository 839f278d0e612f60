import assert from 'node:assert/strict';
import { test } from 'node:test';

import { HeapModeGovernor } from '../../src/runtime/daemon/heap-mode.js';

test('the heap stays tuned for size while traffic is light', () => {
  const governor = new HeapModeGovernor({ sampleMs: 5000, busyPerSecond: 200, quietSamples: 3 });
  for (const messages of [0, 10, 999, 0, 500]) assert.equal(governor.sample(messages, 5), undefined);
  assert.equal(governor.mode, 'size');
});

test('sustained traffic switches to speed once; quiet samples in a row switch back', () => {
  const governor = new HeapModeGovernor({ sampleMs: 5000, busyPerSecond: 200, quietSamples: 3 });
  assert.equal(governor.sample(1000, 5), 'speed');
  assert.equal(governor.sample(5000, 5), undefined, 'already tuned for speed');
  assert.equal(governor.sample(0, 5), undefined);
  assert.equal(governor.sample(0, 5), undefined);
  assert.equal(governor.sample(3, 5), undefined, 'a trickle keeps it busy and restarts the quiet count');
  assert.equal(governor.sample(0, 5), undefined);
  assert.equal(governor.sample(0, 5), undefined);
  assert.equal(governor.sample(0, 5), 'size');
  assert.equal(governor.mode, 'size');
});

test('a sample over no time changes nothing', () => {
  const governor = new HeapModeGovernor();
  assert.equal(governor.sample(10_000, 0), undefined);
});
