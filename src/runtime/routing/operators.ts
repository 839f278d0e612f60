import { equals, order } from './compare.js';
import type { BinaryOp } from './condition-parser.js';
import { andOperator, notOperator, orOperator } from './logic.js';
import { expectType, PROPERTY_HINT, type Fail, type Typed } from './typed.js';
import { describeType, type Evaluator, type Value } from './values.js';

export type { Typed } from './typed.js';

/**
 * Operands that may be compared (or coalesced with ??): two of the same static type, or a $body
 * value with anything but the literal undefined (its type is only known per message).
 */
function comparable(left: Typed, right: Typed): boolean {
  if (left.type === right.type) return true;
  if (left.type === 'dynamic') return right.type !== 'undefined';
  if (right.type === 'dynamic') return left.type !== 'undefined';
  return false;
}

function mismatchHint(left: Typed, right: Typed): string {
  const either = (test: (side: Typed) => boolean) => test(left) || test(right);
  if (either((side) => side.type === 'undefined')) return ' (test for undefined with is_defined(...))';
  if (either((side) => side.type === 'null')) return ' (test for null with is_null(...) or is_defined(...))';
  const propertyAndNumber =
    (left.isProperty && right.type === 'number') || (right.isProperty && left.type === 'number');
  return propertyAndNumber ? ` (${PROPERTY_HINT})` : '';
}

function expectComparable(op: string, left: Typed, right: Typed, fail: Fail): void {
  if (comparable(left, right)) return;
  const verb = op === '??' ? `operator '??' cannot combine` : `operator '${op}' cannot compare`;
  fail(`${verb} ${describeType(left.type)} with ${describeType(right.type)}${mismatchHint(left, right)}`);
}

export function unary(op: '-' | 'not', operand: Typed, fail: Fail): Typed {
  if (op === 'not') return notOperator(operand, fail);
  // Negating the literal null or undefined is undefined (IoT Edge: is_defined(-undefined) is false).
  if (operand.type === 'null' || operand.type === 'undefined') {
    return { type: 'undefined', run: () => undefined };
  }
  expectType(op, operand, ['number'], fail, 'a number');
  const run = operand.run;
  return {
    type: 'number',
    run: (m) => {
      const value = run(m);
      return typeof value === 'number' ? -value : undefined;
    },
  };
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

function concat(l: Evaluator, r: Evaluator): Evaluator {
  return (m) => {
    const a = l(m);
    const b = r(m);
    return typeof a === 'string' && typeof b === 'string' ? a + b : undefined;
  };
}

/** `a ?? b`: a when it is defined (null included), else b. */
function coalesce(l: Evaluator, r: Evaluator): Evaluator {
  return (m) => {
    const a: Value = l(m);
    return a !== undefined ? a : r(m);
  };
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
      return { type: 'string', run: concat(l, r) };
    case '<':
    case '<=':
    case '>':
    case '>=': {
      expectComparable(op, left, right, fail);
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
      expectComparable(op, left, right, fail);
      if (op === '=') return { type: 'bool', run: (m) => equals(l(m), r(m)) };
      return {
        type: 'bool',
        run: (m) => {
          const equal = equals(l(m), r(m));
          return equal === undefined ? undefined : !equal;
        },
      };
    }
    case 'and':
      return andOperator(left, right, fail);
    case 'or':
      return orOperator(left, right, fail);
    case '??':
      expectComparable(op, left, right, fail);
      return { type: left.type === right.type ? left.type : 'dynamic', run: coalesce(l, r) };
  }
}
