import type { CheckContext, CheckDefinition, CheckInputs, CheckResult, FactName, Facts } from './types.js';
import { errorChain, failed, ignored, skipped } from './types.js';

/** A fact computed on demand rather than by a check (e.g. the diagnostics image, built once). */
export interface FactResource<K extends FactName = FactName> {
  needs: FactName[];
  /** Names the resource in failure messages, e.g. "the diagnostics image". */
  label: string;
  compute(facts: Partial<Facts>, inputs: CheckInputs, signal: AbortSignal): Promise<Facts[K]>;
  /** Budget for computing it (e.g. an image build), separate from the checks' own timeouts. */
  timeoutMs: number;
}

export interface RunOptions {
  /** In execution (catalog) order. */
  checks: readonly CheckDefinition[];
  inputs: CheckInputs;
  /** Canonical ids excluded with --dont-run. */
  dontRun?: ReadonlySet<string>;
  /** Facts known before any check runs. */
  seedFacts?: Partial<Facts>;
  /**
   * Values for facts a check may provide instead (e.g. --iothub-hostname, which a manual
   * connection string overrides, as in IoT Edge 1.1): used when no check provides the fact, or
   * its producer does not (ignored, skipped, failed).
   */
  fallbackFacts?: Partial<Facts>;
  resources?: { [K in FactName]?: FactResource<K> };
  defaultTimeoutMs?: number;
  /** Called in execution order as results become final; never after a fatal result's own call. */
  onResult?: (id: string, result: CheckResult) => void;
}

export interface RunRecord {
  id: string;
  result: CheckResult;
}

export interface RunSummary {
  records: RunRecord[];
  facts: Partial<Facts>;
}

const UNAVAILABLE = Symbol('unavailable');
type FactState = { value: unknown } | typeof UNAVAILABLE;

const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * Runs checks concurrently while honouring their declared data dependencies, and reports results
 * in the fixed catalog order. A fatal result stops the run: later checks are aborted and dropped.
 */
export async function runChecks(options: RunOptions): Promise<RunSummary> {
  const { checks, inputs } = options;
  const dontRun = options.dontRun ?? new Set<string>();
  const runAbort = new AbortController();
  const checkAborts = checks.map(() => new AbortController());
  const facts: Partial<Facts> = { ...options.seedFacts };
  const factPromises = new Map<FactName, Promise<FactState>>();
  const producers = new Map<FactName, { resolve: (state: FactState) => void }>();

  for (const [name, value] of Object.entries(facts) as [FactName, unknown][]) {
    factPromises.set(name, Promise.resolve({ value }));
  }
  const fallbacks: Partial<Facts> = options.fallbackFacts ?? {};
  const fallbackState = (name: FactName): FactState => {
    if (!(name in fallbacks)) return UNAVAILABLE;
    const value = fallbacks[name];
    (facts as Record<string, unknown>)[name] = value;
    return { value };
  };
  for (const check of checks) {
    for (const name of check.provides ?? []) {
      if (factPromises.has(name)) continue;
      let resolve!: (state: FactState) => void;
      factPromises.set(name, new Promise<FactState>((r) => (resolve = r)));
      producers.set(name, {
        resolve: (state) => resolve(state === UNAVAILABLE ? fallbackState(name) : state),
      });
    }
  }
  for (const name of Object.keys(fallbacks) as FactName[]) {
    if (!factPromises.has(name)) factPromises.set(name, Promise.resolve(fallbackState(name)));
  }

  const factState = (name: FactName): Promise<FactState> => {
    const known = factPromises.get(name);
    if (known) return known;
    const resource = options.resources?.[name] as FactResource | undefined;
    const promise = resource ? computeResource(name, resource) : Promise.resolve(UNAVAILABLE);
    factPromises.set(name, promise);
    return promise;
  };

  const computeResource = async (name: FactName, resource: FactResource): Promise<FactState> => {
    for (const need of resource.needs) {
      if ((await factState(need)) === UNAVAILABLE) return UNAVAILABLE;
    }
    const signal = AbortSignal.any([runAbort.signal, AbortSignal.timeout(resource.timeoutMs)]);
    try {
      const value = await resource.compute(facts, inputs, signal);
      (facts as Record<string, unknown>)[name] = value;
      return { value };
    } catch (error) {
      throw new Error(`Could not prepare ${resource.label}`, { cause: error });
    }
  };

  const results: (CheckResult | undefined)[] = new Array(checks.length);
  let emitted = 0;
  let fatalIndex = Number.POSITIVE_INFINITY;

  const settle = (index: number, result: CheckResult) => {
    if (index > fatalIndex) return;
    results[index] = result;
    if (result.kind === 'fatal' && index < fatalIndex) {
      fatalIndex = index;
      const reason = new Error('stopped after a fatal check result');
      checkAborts.forEach((controller, other) => other > index && controller.abort(reason));
    }
    while (emitted < checks.length && emitted <= fatalIndex && results[emitted] !== undefined) {
      options.onResult?.(checks[emitted].id, results[emitted]!);
      emitted += 1;
    }
  };

  const runOne = async (check: CheckDefinition, index: number): Promise<void> => {
    const provided = new Set<FactName>();
    try {
      if (dontRun.has(check.id)) return settle(index, ignored());
      for (const need of check.needs ?? []) {
        const state = await factState(need);
        if (index > fatalIndex) return;
        if (state === UNAVAILABLE) return settle(index, skipped());
      }
      const result = await runWithTimeout(check, {
        inputs,
        signal: checkAborts[index].signal,
        fact: (name) => {
          if (!(name in facts)) throw new Error(`check ${check.id} used fact ${name} it did not declare`);
          return facts[name]!;
        },
        provide: (name, value) => {
          if (!check.provides?.includes(name))
            throw new Error(`check ${check.id} provided undeclared ${name}`);
          if (producers.has(name)) {
            (facts as Record<string, unknown>)[name] = value;
            provided.add(name);
            producers.get(name)!.resolve({ value });
          }
        },
      });
      settle(index, result);
    } catch (error) {
      const [message, ...causes] = errorChain(error);
      settle(index, failed(message, causes));
    } finally {
      for (const name of check.provides ?? []) {
        if (!provided.has(name)) producers.get(name)?.resolve(UNAVAILABLE);
      }
    }
  };

  const runWithTimeout = async (check: CheckDefinition, base: CheckContext): Promise<CheckResult> => {
    const timeoutMs = check.timeoutMs ?? options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const local = new AbortController();
    const signal = AbortSignal.any([base.signal, local.signal]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(() => {
        local.abort(new Error(`timed out after ${timeoutMs / 1000} s`));
        resolve(failed(`The check did not finish within ${timeoutMs / 1000} seconds.`));
      }, timeoutMs);
    });
    const stopped = new Promise<CheckResult>((resolve) =>
      base.signal.addEventListener('abort', () => resolve(failed('The check was stopped.')), { once: true }),
    );
    try {
      return await Promise.race([check.run({ ...base, signal }), timedOut, stopped]);
    } finally {
      clearTimeout(timer);
    }
  };

  await Promise.all(checks.map((check, index) => runOne(check, index)));
  runAbort.abort();
  const records: RunRecord[] = [];
  for (let index = 0; index < checks.length && index <= fatalIndex; index += 1) {
    records.push({ id: checks[index].id, result: results[index]! });
  }
  return { records, facts };
}
