import type { ModuleRuntime, ModuleSpec } from '../modules/types.js';

export type Readiness = { kind: 'ready' } | { kind: 'pending' } | { kind: 'failed'; message: string };

interface Entry {
  configHash: string;
  readiness: Readiness;
  settledAt?: Date;
  settled?: Promise<void>;
}

export interface PreparationOptions {
  runtimeFor(type: ModuleSpec['type']): ModuleRuntime | undefined;
  /** Called when a preparation ends, so the agent reconciles at once. */
  onSettled(): void;
  now(): Date;
  /** How long a failed preparation waits before it is tried again. */
  retryMs: number;
  log(line: string): void;
}

/**
 * Gets what a module needs before it can be created (for containers: the image) outside the
 * reconcile loop, so that a slow pull never holds up the supervision of running modules.
 * One preparation per module and configuration at a time; a failure is kept (and shown on the
 * module) until it is retried after `retryMs` or a new deployment arrives.
 */
export class Preparation {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: PreparationOptions) {}

  /** Where the module's preparation stands; starts (or retries) it when needed. */
  readiness(spec: ModuleSpec): Readiness {
    const prepare = this.options.runtimeFor(spec.type)?.prepare;
    if (!prepare) return { kind: 'ready' };
    const entry = this.entries.get(spec.name);
    if (entry?.configHash === spec.configHash && !this.retryDue(entry)) return entry.readiness;
    const started: Entry = { configHash: spec.configHash, readiness: { kind: 'pending' } };
    this.entries.set(spec.name, started);
    started.settled = prepare
      .call(this.options.runtimeFor(spec.type), spec)
      .then(
        (): Readiness => ({ kind: 'ready' }),
        (error: unknown): Readiness => ({ kind: 'failed', message: (error as Error).message }),
      )
      .then((readiness) => {
        if (this.entries.get(spec.name) !== started) return;
        started.readiness = readiness;
        started.settledAt = this.options.now();
        if (readiness.kind === 'failed') this.options.log(`agent: ${readiness.message}`);
        this.options.onSettled();
      });
    return started.readiness;
  }

  /** Resolves when the preparations now under way for these modules have ended (or after maxMs). */
  async whenSettled(names: readonly string[], maxMs: number): Promise<void> {
    const pending = names.flatMap((name) => {
      const entry = this.entries.get(name);
      return entry?.readiness.kind === 'pending' && entry.settled ? [entry.settled] : [];
    });
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)));
    await Promise.race([Promise.all(pending), limit]);
    clearTimeout(timer);
  }

  /** What is known without starting anything: for showing modules that are not created yet. */
  peek(name: string): Readiness | undefined {
    return this.entries.get(name)?.readiness;
  }

  /** Makes the next readiness() check again (e.g. create found the image gone after all). */
  forget(name: string): void {
    this.entries.delete(name);
  }

  /** A new deployment: failed preparations are tried again at once. */
  retryFailures(): void {
    for (const [name, entry] of this.entries)
      if (entry.readiness.kind === 'failed') this.entries.delete(name);
  }

  private retryDue(entry: Entry): boolean {
    return (
      entry.readiness.kind === 'failed' &&
      entry.settledAt !== undefined &&
      this.options.now().getTime() - entry.settledAt.getTime() >= this.options.retryMs
    );
  }
}
