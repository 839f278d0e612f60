import { expectType, type Fail, type Typed } from './typed.js';
import type { StaticType, Value } from './values.js';

const LOGICAL: readonly StaticType[] = ['bool', 'null', 'undefined'];

/** true and false as themselves; anything else (undefined, a $body null or string) is unknown. */
function truth(value: Value): boolean | undefined {
  return value === true || value === false ? value : undefined;
}

/**
 * NOT, AND and OR use three-valued (Kleene) logic over true, false and unknown, evaluating the
 * right side only when the left one does not decide. The literal `null` is falsy rather than
 * unknown, as in IoT Edge: `NOT null` is true, `null AND x` is null whatever x is, `null OR x` is
 * the truth of x, and `null OR null` is null. A null read from a message body is unknown.
 */
export function notOperator(operand: Typed, fail: Fail): Typed {
  expectType('not', operand, LOGICAL, fail, 'a boolean');
  if (operand.type === 'null') return { type: 'bool', run: () => true };
  const run = operand.run;
  return {
    type: 'bool',
    run: (m) => {
      const value = truth(run(m));
      return value === undefined ? undefined : !value;
    },
  };
}

export function andOperator(left: Typed, right: Typed, fail: Fail): Typed {
  expectType('and', left, LOGICAL, fail, 'booleans');
  expectType('and', right, LOGICAL, fail, 'booleans');
  if (left.type === 'null' || right.type === 'null') return { type: 'null', run: () => null };
  const l = left.run;
  const r = right.run;
  return {
    type: 'bool',
    run: (m) => {
      const a = truth(l(m));
      if (a === false) return false;
      const b = truth(r(m));
      if (b === false) return false;
      return a === true && b === true ? true : undefined;
    },
  };
}

export function orOperator(left: Typed, right: Typed, fail: Fail): Typed {
  expectType('or', left, LOGICAL, fail, 'booleans');
  expectType('or', right, LOGICAL, fail, 'booleans');
  if (left.type === 'null' && right.type === 'null') return { type: 'null', run: () => null };
  if (left.type === 'null' || right.type === 'null') {
    const other = left.type === 'null' ? right.run : left.run;
    return { type: 'bool', run: (m) => truth(other(m)) };
  }
  const l = left.run;
  const r = right.run;
  return {
    type: 'bool',
    run: (m) => {
      const a = truth(l(m));
      if (a === true) return true;
      const b = truth(r(m));
      if (b === true) return true;
      return a === false && b === false ? false : undefined;
    },
  };
}
