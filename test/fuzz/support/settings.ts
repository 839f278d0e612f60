/**
 * How a fuzz run is seeded and sized. A fixed seed by default, so that every run of the test
 * command tries the same cases; `FUZZ_SEED` picks other cases, `FUZZ_RUNS` sets the number of
 * cases of every property, and `FUZZ_PATH` (with the seed fast-check printed) replays one failure.
 */

/** The default seed: any fixed 32-bit integer does; this one is only memorable. */
export const DEFAULT_SEED = 0x1e0ed9e;

function integerEnv(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new Error(`${name} must be an integer, found ${JSON.stringify(text)}`);
  return value;
}

export function fuzzSeed(): number {
  return integerEnv('FUZZ_SEED') ?? DEFAULT_SEED;
}

/** `FUZZ_RUNS` when set, else the property's own number of cases. */
export function fuzzRuns(defaultRuns: number): number {
  return integerEnv('FUZZ_RUNS') ?? defaultRuns;
}

/** The replay path fast-check printed with a failure, when `FUZZ_PATH` gives one. */
export function fuzzPath(): string | undefined {
  const path = process.env.FUZZ_PATH;
  return path === undefined || path === '' ? undefined : path;
}

/**
 * A case that takes longer than this is taken for a hang. Each case is one parse of a small input
 * (microseconds to a few milliseconds); only an endless loop or catastrophic backtracking comes
 * near the limit, so it does not judge the machine's speed.
 */
export const HANG_MS = 5_000;
