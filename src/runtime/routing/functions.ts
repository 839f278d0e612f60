import type { StaticType, Value } from './values.js';

/** Argument types a parameter accepts at compile time ($body values are accepted everywhere). */
type Param = readonly StaticType[] | 'any';

export interface Builtin {
  /** Parameter types; when `variadic`, the last one repeats. */
  params: readonly Param[];
  /** Fewest arguments (defaults to all parameters). */
  min?: number;
  variadic?: boolean;
  returns: StaticType;
  /** Runs on evaluated arguments; every builtin answers `undefined` for arguments of a wrong type. */
  run: (...args: Value[]) => Value;
}

const NUMBER: Param = ['number'];
const STRING: Param = ['string'];

/** A number result; NaN (sqrt(-1), 0/0) is undefined rather than a number no comparison matches. */
function numeric(value: number): Value {
  return Number.isNaN(value) ? undefined : value;
}

function math(fn: (x: number) => number): Builtin {
  return {
    params: [NUMBER],
    returns: 'number',
    run: (x) => (typeof x === 'number' ? numeric(fn(x)) : undefined),
  };
}

function is(test: (x: Value) => boolean): Builtin {
  return { params: ['any'], returns: 'bool', run: (x) => test(x) };
}

function text<R extends Value>(returns: StaticType, fn: (s: string, t: string) => R): Builtin {
  return {
    params: [STRING, STRING],
    returns,
    run: (s, t) => (typeof s === 'string' && typeof t === 'string' ? fn(s, t) : undefined),
  };
}

function caseMap(fn: (s: string) => string): Builtin {
  return { params: [STRING], returns: 'string', run: (s) => (typeof s === 'string' ? fn(s) : undefined) };
}

const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function asNumber(x: Value): Value {
  if (typeof x === 'number') return x;
  if (typeof x !== 'string') return undefined;
  const trimmed = x.trim();
  return DECIMAL.test(trimmed) ? Number(trimmed) : undefined;
}

/**
 * substring(s, start[, length]) as IoT Edge: the start must lie inside the string (it may equal
 * the length when no length is given), the length must fit after it; start and length must be
 * integers. Anything else, an undefined length included, is undefined.
 */
function substring(...args: Value[]): Value {
  const [s, start, length] = args;
  if (typeof s !== 'string' || typeof start !== 'number' || !Number.isInteger(start) || start < 0) {
    return undefined;
  }
  if (args.length < 3) return start <= s.length ? s.slice(start) : undefined;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) return undefined;
  return start < s.length && start + length <= s.length ? s.slice(start, start + length) : undefined;
}

function concat(...values: Value[]): Value {
  let result = '';
  for (const value of values) {
    if (typeof value !== 'string') return undefined;
    result += value;
  }
  return result;
}

/**
 * The built-in functions by lower-cased name. twin_change_includes is compiled
 * by the condition compiler: its argument is a path, not an expression.
 */
export const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ['abs', math(Math.abs)],
  ['exp', math(Math.exp)],
  [
    'power',
    {
      params: [NUMBER, NUMBER],
      returns: 'number',
      run: (x, y) => (typeof x === 'number' && typeof y === 'number' ? numeric(Math.pow(x, y)) : undefined),
    },
  ],
  ['square', math((x) => x * x)],
  ['ceiling', math(Math.ceil)],
  ['floor', math(Math.floor)],
  ['sign', math(Math.sign)],
  ['sqrt', math(Math.sqrt)],

  ['as_number', { params: [['string', 'number']], returns: 'number', run: asNumber }],
  ['is_bool', is((x) => typeof x === 'boolean')],
  ['is_defined', is((x) => x !== undefined)],
  ['is_null', is((x) => x === null)],
  // Infinity (1 / 0) is defined but not a number, as in IoT Edge.
  ['is_number', is((x) => typeof x === 'number' && Number.isFinite(x))],
  ['is_string', is((x) => typeof x === 'string')],

  ['concat', { params: [STRING, STRING], variadic: true, returns: 'string', run: concat }],
  [
    'length',
    { params: [STRING], returns: 'number', run: (s) => (typeof s === 'string' ? s.length : undefined) },
  ],
  ['lower', caseMap((s) => s.toLowerCase())],
  ['upper', caseMap((s) => s.toUpperCase())],
  ['substring', { params: [STRING, NUMBER, NUMBER], min: 2, returns: 'string', run: substring }],
  ['index_of', text('number', (s, t) => s.indexOf(t))],
  ['starts_with', text('bool', (s, t) => s.startsWith(t))],
  ['ends_with', text('bool', (s, t) => s.endsWith(t))],
  ['contains', text('bool', (s, t) => s.includes(t))],
]);

export const TWIN_CHANGE_INCLUDES = 'twin_change_includes';

/** "1 argument", "2 to 3 arguments", "at least 2 arguments". */
export function describeArity(builtin: Builtin): string {
  const max = builtin.params.length;
  const min = builtin.min ?? max;
  const plural = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;
  if (builtin.variadic) return `at least ${plural(min)}`;
  return min === max ? plural(max) : `${min} to ${plural(max)}`;
}

export function acceptsArgument(param: Param, type: StaticType): boolean {
  return param === 'any' || type === 'dynamic' || param.includes(type);
}

export function describeParam(param: Param): string {
  return param === 'any'
    ? 'any value'
    : param.map((type) => (type === 'number' ? 'a number' : 'a string')).join(' or ');
}

export function paramAt(builtin: Builtin, index: number): Param {
  return builtin.params[Math.min(index, builtin.params.length - 1)]!;
}
