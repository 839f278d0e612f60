import { DEFAULT_HEAP_MODE_POLICY, HeapModeGovernor, type HeapMode } from './heap-mode.js';
import { setHeapMode } from './heap-tuning.js';

/**
 * Samples how many messages the hub has handled every few seconds and tunes V8's heap for
 * throughput while it is busy, for size once it is quiet again. Returns a function that stops it.
 */
export function watchTrafficForHeap(
  messagesSoFar: () => number,
  log: (line: string) => void,
  apply: (mode: HeapMode) => void = setHeapMode,
): () => void {
  const { sampleMs } = DEFAULT_HEAP_MODE_POLICY;
  const governor = new HeapModeGovernor(DEFAULT_HEAP_MODE_POLICY);
  let last = messagesSoFar();
  const timer = setInterval(() => {
    const now = messagesSoFar();
    const change = governor.sample(now - last, sampleMs / 1000);
    last = now;
    if (!change) return;
    apply(change);
    log(
      change === 'speed'
        ? 'hub: busy: heap tuned for throughput'
        : 'hub: quiet for a minute: heap tuned for size again',
    );
  }, sampleMs);
  timer.unref();
  return () => clearInterval(timer);
}
