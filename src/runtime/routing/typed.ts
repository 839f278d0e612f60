import { describeType, type Evaluator, type StaticType } from './values.js';

/** A compiled operand: its static type, evaluator, and whether it reads a (string) property. */
export interface Typed {
  type: StaticType;
  run: Evaluator;
  isProperty?: boolean;
}

/** Reports a compile error at the operator being checked. */
export type Fail = (problem: string) => never;

export const PROPERTY_HINT =
  'application and system properties are strings: convert with as_number(...) or compare with a string literal';

/** Fails unless `operand` has one of the `allowed` types; a $body value passes any check. */
export function expectType(
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
