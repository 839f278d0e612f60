import assert from 'node:assert/strict';
import { test } from 'node:test';

import { HealthMonitor, HealthTracker, type HealthChange } from '../../src/runtime/modules/process/health.js';
import type { ProbeResult } from '../../src/runtime/modules/process/health-probe.js';
import type { HealthProbe } from '../../src/runtime/modules/types.js';

test('the tracker turns unhealthy at the threshold of consecutive failures, and healthy on a success', () => {
  const tracker = new HealthTracker(3);
  const changes = [false, false, true, false, false, false, false, true, true].map((ok) =>
    tracker.record(ok),
  );
  assert.deepEqual(changes, [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    'unhealthy',
    undefined,
    'healthy',
    undefined,
  ]);
  assert.equal(tracker.healthy, true);
});

test('a threshold below 1 counts as 1', () => {
  const tracker = new HealthTracker(0);
  assert.equal(tracker.record(false), 'unhealthy');
  assert.equal(tracker.healthy, false);
});

test('the monitor probes one at a time, describes the failure and reports each change once', async () => {
  const probe: HealthProbe = {
    type: 'http',
    url: 'http://x',
    intervalSecs: 0.01,
    timeoutSecs: 1,
    failureThreshold: 2,
  };
  const results: ProbeResult[] = [
    { ok: true, detail: '' },
    { ok: false, detail: 'answered 500' },
    { ok: false, detail: 'answered 502' },
    { ok: false, detail: 'answered 503' },
    { ok: true, detail: '' },
  ];
  let running = 0;
  let overlapped = false;
  const changes: HealthChange[] = [];
  const descriptions: (string | undefined)[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const monitor = new HealthMonitor(
    probe,
    { cwd: '/', env: {} },
    (change) => {
      changes.push(change);
      descriptions.push(monitor.description);
    },
    async () => {
      overlapped ||= running > 0;
      running++;
      await new Promise((done) => setTimeout(done, 15));
      running--;
      const result = results.shift();
      if (!results.length) finish();
      return result ?? { ok: true, detail: '' };
    },
  );
  // the monitor's timers do not keep a process alive: this test must
  const keepAlive = setInterval(() => undefined, 1000);
  monitor.start();
  await finished;
  clearInterval(keepAlive);
  await new Promise((done) => setTimeout(done, 5));
  monitor.stop();
  assert.deepEqual(changes, ['unhealthy', 'healthy']);
  assert.deepEqual(descriptions, ['health probe failed 2 times in a row: answered 502', undefined]);
  assert.equal(overlapped, false);
  assert.equal(monitor.healthy, true);
});
