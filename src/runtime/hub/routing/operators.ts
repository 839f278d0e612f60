import type { BinaryOp } from './condition-parser.js';
import { describeType, type Evaluator, type StaticType, type Value } from './values.js';

/** A compiled operand: its static type, evaluator, and whether it reads a (string) property. */
export interface Typed {
  type: StaticType;
  run: Evaluator;
  isProperty?: boolean;
}

type Fail = (problem: string) => never;

const PROPERTY_HINT =
  'application and system properties are strings: convert with as_number(...) or compare with a string literal';

function mismatch(op: string, left: Typed, right: Typed, fail: Fail): never {
  const hint = (left.isProperty && right.type === 'number') || (right.isProperty && left.type === 'number');
  const problem = `operator '${op}' cannot compare ${describeType(left.type)} with ${describeType(right.type)}`;
  return fail(hint ? `${problem} (${PROPERTY_HINT})` : problem);
}

function expectType(
  op: string,
  operand: Typed,
  allowed: readonly StaticType[],
  fail: Fail,
  what: string,
): void {
  if (operand.type === 'dynamic' || allowed.includes(operand.type)) return;
  let hint = '';
  if (op === '+' && operand.type === 'string') hint = ' (join strings with || or concat())';
  else if (op === 'not') hint = ' (NOT binds tighter than comparisons: write NOT (a = b))';
  else if (operand.isProperty && allowed.includes('number')) hint = ` (${PROPERTY_HINT})`;
  fail(`operator '${op.toUpperCase()}' expects ${what}, found ${describeType(operand.type)}${hint}`);
}

const LOGICAL: readonly StaticType[] = ['bool', 'null', 'undefined'];

/** Kleene logic: anything but true or false (null, a $body string) is unknown. */
function not(value: Value): Value {
  return value === true ? false : value === false ? true : undefined;
}

export function unary(op: '-' | 'not', operand: Typed, fail: Fail): Typed {
  const run = operand.run;
  if (op === 'not') {
    expectType(op, operand, LOGICAL, fail, 'a boolean');
    return { type: 'bool', run: (m) => not(run(m)) };
  }
  expectType(op, operand, ['number'], fail, 'a number');
  return {
    type: 'number',
    run: (m) => {
      const value = run(m);
      return typeof value === 'number' ? -value : undefined;
    },
  };
}

/** Equality: undefined if either side is; null equals only null; different types are unknown. */
export function equals(a: Value, b: Value): Value {
  if (a === undefined || b === undefined) return undefined;
  if (a === null || b === null) return a === b;
  if (typeof a !== typeof b) return undefined;
  return a === b;
}

/** Ordering: numbers with numbers, strings with strings (ordinal), anything else unknown. */
function order(a: Value, b: Value): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : a === b ? 0 : undefined;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

function arithmetic(op: BinaryOp, l: Evaluator, r: Evaluator): Evaluator {
  const compute = ARITHMETIC[op]!;
  return (m) => {
    const a = l(m);
    if (typeof a !== 'number') return undefined;
    const b = r(m);
    if (typeof b !== 'number') return undefined;
    const result = compute(a, b);
    return Number.isNaN(result) ? undefined : result;
  };
}

const ARITHMETIC: Partial<Record<BinaryOp, (a: number, b: number) => number>> = {
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
};

const ORDER_TEST: Partial<Record<BinaryOp, (c: number) => boolean>> = {
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

function sameOrDynamic(left: Typed, right: Typed): boolean {
  return left.type === right.type || left.type === 'dynamic' || right.type === 'dynamic';
}

export function binary(op: BinaryOp, left: Typed, right: Typed, fail: Fail): Typed {
  const l = left.run;
  const r = right.run;
  switch (op) {
    case '*':
    case '/':
    case '%':
    case '+':
    case '-':
      expectType(op, left, ['number'], fail, 'numbers');
      expectType(op, right, ['number'], fail, 'numbers');
      return { type: 'number', run: arithmetic(op, l, r) };
    case '||':
      expectType(op, left, ['string'], fail, 'strings');
      expectType(op, right, ['string'], fail, 'strings');
      return {
        type: 'string',
        run: (m) => {
          const a = l(m);
          const b = r(m);
          return typeof a === 'string' && typeof b === 'string' ? a + b : undefined;
        },
      };
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (!sameOrDynamic(left, right)) mismatch(op, left, right, fail);
      expectType(op, left, ['number', 'string'], fail, 'numbers or strings');
      expectType(op, right, ['number', 'string'], fail, 'numbers or strings');
      const test = ORDER_TEST[op]!;
      return {
        type: 'bool',
        run: (m) => {
          const c = order(l(m), r(m));
          return c === undefined ? undefined : test(c);
        },
      };
    }
    case '=':
    case '!=':
    case '<>': {
      const literalSide =
        ['null', 'undefined'].includes(left.type) || ['null', 'undefined'].includes(right.type);
      if (!literalSide && !sameOrDynamic(left, right)) mismatch(op, left, right, fail);
      if (op === '=') return { type: 'bool', run: (m) => equals(l(m), r(m)) };
      return { type: 'bool', run: (m) => not(equals(l(m), r(m))) };
    }
    case 'and':
      expectType(op, left, LOGICAL, fail, 'booleans');
      expectType(op, right, LOGICAL, fail, 'booleans');
      return {
        type: 'bool',
        run: (m) => {
          const a = l(m);
          if (a === false) return false;
          const b = r(m);
          if (b === false) return false;
          return a === true && b === true ? true : undefined;
        },
      };
    case 'or':
      expectType(op, left, LOGICAL, fail, 'booleans');
      expectType(op, right, LOGICAL, fail, 'booleans');
      return {
        type: 'bool',
        run: (m) => {
          const a = l(m);
          if (a === true) return true;
          const b = r(m);
          if (b === true) return true;
          return a === false && b === false ? false : undefined;
        },
      };
    case '??': {
      const literalSide = left.type === 'undefined' || left.type === 'null' || right.type === 'null';
      if (!literalSide && right.type !== 'undefined' && !sameOrDynamic(left, right)) {
        fail(
          `operator '??' expects both sides of the same type, found ${describeType(left.type)} and ${describeType(right.type)}`,
        );
      }
      const type = left.type === 'undefined' ? right.type : left.type === right.type ? left.type : 'dynamic';
      return {
        type,
        run: (m) => {
          const a = l(m);
          return a !== undefined ? a : r(m);
        },
      };
    }
  }
}
