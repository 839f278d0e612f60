/**
 * When the daemon's heap should favour throughput over memory. An idle daemon keeps V8's young
 * generation small (--optimize-for-size); under sustained message traffic that small young
 * generation means dozens of scavenges a second and the hub's tail latency triples, so the hub
 * switches to V8's default sizing while busy and back once traffic has stopped for a while.
 * Pure: the caller samples the message count and applies the mode.
 */
export type HeapMode = 'size' | 'speed';

export interface HeapModePolicy {
  /** How often the caller samples the message count. */
  sampleMs: number;
  /** Messages per second, over one sample, that make the hub busy. */
  busyPerSecond: number;
  /** Consecutive samples without a message before the hub counts as quiet again. */
  quietSamples: number;
}

/** Busy after one busy sample, quiet after a minute without a message. */
export const DEFAULT_HEAP_MODE_POLICY: HeapModePolicy = {
  sampleMs: 2_000,
  busyPerSecond: 200,
  quietSamples: 30,
};

export class HeapModeGovernor {
  private current: HeapMode = 'size';
  private quiet = 0;

  constructor(private readonly policy: HeapModePolicy = DEFAULT_HEAP_MODE_POLICY) {}

  get mode(): HeapMode {
    return this.current;
  }

  /** Takes one sample (messages over `seconds`); returns the new mode when it changes. */
  sample(messages: number, seconds: number): HeapMode | undefined {
    this.quiet = messages === 0 ? this.quiet + 1 : 0;
    let next = this.current;
    if (seconds > 0 && messages / seconds >= this.policy.busyPerSecond) next = 'speed';
    else if (this.quiet >= this.policy.quietSamples) next = 'size';
    if (next === this.current) return undefined;
    this.current = next;
    return next;
  }
}
