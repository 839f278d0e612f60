/**
 * One fuzz property of one parser: an arbitrary of inputs and a check that throws when the parser
 * misbehaves on one of them. The same targets run a fixed number of cases in the test command and
 * millions in the long mode (long.ts).
 */
import fc from 'fast-check';

export interface FuzzTarget<T = unknown> {
  /** `<parser>: <what is generated>`, e.g. `parseDeployment: random JSON`. */
  name: string;
  /** Cases in the test command. */
  runs: number;
  arbitrary: () => fc.Arbitrary<T>;
  /** Throws when the property does not hold for `value`; may be async only when `async` is set. */
  check: (value: T) => void | Promise<void>;
  async?: boolean;
  /** Fixed inputs tried before the generated ones: the regression cases of findings. */
  examples?: readonly T[];
  /** An open finding that makes the property fail: the test then reports a to-do, not a failure. */
  known?: string;
}

/** Erases a target's input type so that targets of different parsers fit in one list. */
export function target<T>(definition: FuzzTarget<T>): FuzzTarget {
  return definition as unknown as FuzzTarget;
}

/** The target's property, with `wrap` around its check (timing, counting). */
export function propertyOf(
  fuzz: FuzzTarget,
  wrap: (check: (value: unknown) => void | Promise<void>) => (value: unknown) => void | Promise<void>,
): fc.IRawProperty<[unknown]> {
  const check = wrap(fuzz.check);
  if (fuzz.async) return fc.asyncProperty(fuzz.arbitrary(), async (value) => void (await check(value)));
  return fc.property(fuzz.arbitrary(), (value) => void check(value));
}
