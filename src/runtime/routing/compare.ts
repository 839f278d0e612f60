import type { Value } from './values.js';

/**
 * Equality of two runtime values: undefined when either side is undefined; otherwise equal only
 * when of the same type and value, so a number never equals a string (`$body.n = '5'` is false and
 * `$body.n <> '5'` true for the number 5), and null equals only null.
 */
export function equals(a: Value, b: Value): Value {
  if (a === undefined || b === undefined) return undefined;
  return a === b;
}

/**
 * Ordering of two runtime values of the same type: numbers by value, strings ordinally (by UTF-16
 * code unit, so 'B' < 'a'), false before true, null level with null. Values of different types
 * have no order: the result is undefined.
 */
export function order(a: Value, b: Value): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (a === null || b === null) return a === b ? 0 : undefined;
  if (typeof a !== typeof b) return undefined;
  return a < b ? -1 : a > b ? 1 : 0;
}
