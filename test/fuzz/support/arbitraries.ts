/**
 * Inputs that trip parsers: strings of awkward characters, JSON with awkward keys and numbers, and
 * vocabulary-built text. Mutations of valid inputs are in mutations.ts.
 */
import fc from 'fast-check';

/** Characters with a meaning to some parser, or none anywhere (NUL, lone surrogates, BOM). */
const SPECIAL_CHARS = [
  '\0', '\n', '\r', '\t', ' ', '"', "'", '\\', '/', '%', '&', '=', '?', '#', '$', '.', '[', ']', '{', '}',
  '(', ')', ':', ',', ';', '*', '+', '-', '`', '~', '@', '!', '<', '>', '|', '^', '\u2028', '\u00a0', '\ufeff',
  '\ud800', '\udfff', '\u0085', 'é', 'µ', 'İ', 'ß', '\u{1f4a5}',
]; // prettier-ignore

export const nastyChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_CHARS) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((code) => String.fromCodePoint(code)),
  },
);

export function nastyString(maxLength = 24): fc.Arbitrary<string> {
  return fc.string({ unit: nastyChar, maxLength });
}

/** Object keys that a careless `target[key] = value` or `key in object` gets wrong. */
export const nastyKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: nastyString(12) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ',
      '$version', '$metadata', 'properties.desired', '$edgeAgent', '$edgeHub', 'modulesContent', 'content',
    ), // prettier-ignore
  },
);

/** Numbers at the edges: of integers, of the safe range, of 32-bit fields, of doubles. */
const EDGE_NUMBERS = [
  0, -0, 1, -1, 1.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 52, 2 ** 53, -(2 ** 53), 65535, 65536,
  Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e21,
]; // prettier-ignore

export const jsonLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(...EDGE_NUMBERS),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  nastyString(),
  fc.constantFrom(
    '',
    'true',
    'null',
    '1.0',
    '{}',
    '[]',
    '-1',
    '1e999',
    'docker',
    'process',
    'running',
    '1.1',
  ),
);

/** An object built as JSON.parse builds one: `__proto__` is an own key, not the prototype. */
export function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  return Object.fromEntries(entries);
}

/** JSON values (as JSON.parse returns them) with awkward keys, strings and numbers. */
export const nastyJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(nastyKey, tie('value')), { maxLength: 5 }).map(objectOf),
  ),
})).value;

/** Text made of `words` and awkward strings, separated by blanks or nothing. */
export function textOf(words: readonly string[], maxWords = 12): fc.Arbitrary<string> {
  const word = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...words) },
    { weight: 1, arbitrary: nastyString(6) },
  );
  const gap = fc.constantFrom('', ' ', ' ', '\n', '\t', '  ');
  return fc
    .array(fc.tuple(word, gap), { maxLength: maxWords })
    .map((parts) => parts.map(([text, space]) => text + space).join(''));
}
