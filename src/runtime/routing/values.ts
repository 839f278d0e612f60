import type { HubMessage } from './message.js';

/** A runtime value of a condition; `undefined` is the language's third truth value. */
export type Value = boolean | number | string | null | undefined;

/** A compiled (sub)expression. */
export type Evaluator = (message: HubMessage) => Value;

/**
 * Compile-time types. Properties are strings, `$body` queries are `dynamic` (any type, known only
 * per message) and the literals `null` and `undefined` have types of their own.
 */
export type StaticType = 'bool' | 'number' | 'string' | 'null' | 'undefined' | 'dynamic';

export function describeType(type: StaticType): string {
  switch (type) {
    case 'bool':
      return 'a boolean';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'null':
      return 'null';
    case 'undefined':
      return 'undefined';
    case 'dynamic':
      return 'a $body value';
  }
}
