import assert from 'node:assert/strict';
import { test } from 'node:test';

import { metricSum } from '../helpers/soak/hub-metrics.js';
import { leastSquares } from '../helpers/soak/linear-fit.js';
import { perMinute, rssTrend, warmupSeconds, type SoakSample } from '../helpers/soak/rss-trend.js';
import { SequenceTracker } from '../helpers/soak/sequence-tracker.js';

test('a least-squares line through points on a line finds that line', () => {
  const fit = leastSquares([0, 1, 2, 3].map((x) => ({ x, y: 5 + 2 * x })));
  assert.equal(fit.slope, 2);
  assert.equal(fit.intercept, 5);
  assert.equal(fit.r2, 1);
  assert.throws(() => leastSquares([{ x: 1, y: 1 }]), /two points/);
  assert.throws(
    () =>
      leastSquares([
        { x: 1, y: 1 },
        { x: 1, y: 2 },
      ]),
    /two different x/,
  );
});

test('noise around a flat line gives a slope near zero; a sawtooth is not a trend', () => {
  const points = Array.from({ length: 60 }, (_, x) => ({ x, y: 100 + (x % 2 === 0 ? 3 : -3) }));
  assert.ok(Math.abs(leastSquares(points).slope) < 0.01);
});

const sample = (t_s: number, rss_mb: number): SoakSample => ({
  t_s,
  rss_mb,
  rss_anon_mb: rss_mb / 2,
  daemon_cpu_s: 0,
  sent: 0,
  received: 0,
  upstream_held: 0,
  max_latency_ms: 0,
});

test('the RSS trend leaves out the warm-up and speaks in MB per hour', () => {
  // a steep first two minutes (heap warm-up), then +1 MB every 10 s: 360 MB per hour
  const samples = [
    sample(0, 50),
    sample(60, 90),
    ...Array.from({ length: 19 }, (_, i) => sample(120 + 10 * i, 100 + i)),
  ];
  const trend = rssTrend(samples, warmupSeconds(300));
  assert.equal(trend.fitted_from_s, 120);
  assert.equal(trend.fitted_samples, 19);
  assert.ok(Math.abs(trend.rss_mb_per_hour - 360) < 1e-6, `${trend.rss_mb_per_hour}`);
  assert.ok(Math.abs(trend.rss_anon_mb_per_hour - 180) < 1e-6);
  assert.equal(warmupSeconds(3600), 360, 'an hour warms up for its first 10%');
  assert.equal(warmupSeconds(60), 30, 'a one-minute run is fitted over its second half');
});

test('one sample a minute: the nearest to each whole minute, and the last', () => {
  const samples = Array.from({ length: 19 }, (_, i) => sample(i * 10 + 0.3, 0));
  assert.deepEqual(
    perMinute(samples).map((s) => s.t_s),
    [0.3, 60.3, 120.3, 180.3],
  );
});

test('the sequence tracker counts each loss and duplicate, and only expected numbers as lost', () => {
  const tracker = new SequenceTracker();
  for (const sequence of [0, 1, 2, 2, 4, 100_000, 100_000, -1, 1.5]) tracker.record(sequence);
  assert.equal(tracker.unique, 5);
  assert.equal(tracker.duplicates, 2);
  assert.equal(tracker.foreign, 2);
  assert.equal(tracker.missing(6), 2, '3 and 5 never came');
  assert.equal(
    tracker.missing(6, (sequence) => sequence !== 3),
    1,
    'a number nobody expected is not a loss',
  );
  assert.deepEqual(
    tracker.firstMissing(10, () => true, 3),
    [3, 5, 6],
  );
  assert.ok(tracker.has(100_000));
});

test('metric sums pick the samples whose labels match', () => {
  const text = [
    '# HELP edgehub_queue_length Messages held',
    'edgehub_queue_length{endpoint="$upstream",priority="all"} 3012',
    'edgehub_queue_length{endpoint="edge-1/receiver/inputs/in1",priority="all"} 7',
    'edgehub_messages_dropped_total{reason="ttl_expiry",from="edge-1/sender"} 40',
    'edgehub_messages_dropped_total{reason="ttl_expiry",from="edge-1"} 2',
    'edgehub_messages_dropped_total{reason="no_route",from="edge-1/sender"} 9',
    'edgehub_queue_length_other 5',
  ].join('\n');
  assert.equal(metricSum(text, 'edgehub_queue_length', { endpoint: '$upstream' }), 3012);
  assert.equal(metricSum(text, 'edgehub_queue_length'), 3019);
  assert.equal(metricSum(text, 'edgehub_messages_dropped_total', { reason: 'ttl_expiry' }), 42);
  assert.equal(metricSum(text, 'edgehub_connected_clients'), 0);
});
