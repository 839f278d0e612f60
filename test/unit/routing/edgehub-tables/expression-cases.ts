import type { Value } from '../../../../src/runtime/routing/values.js';

/**
 * edgeHub's ConditionVisitorTest (literals and arithmetic by value, literal syntax errors) and
 * JsonPathValidatorTest ($body paths) rows.
 */

/** An expression and the value edgeHub computes for it. NaN (3 % 0) is the language's undefined. */
export const VALUE_CASES: readonly (readonly [expression: string, value: Value])[] = [
  ['100', 100],
  ['0100', 100],
  ['(((3)))', 3],
  ['12.34', 12.34],
  ['1.234e1', 12.34],
  ['1.234e+1', 12.34],
  ['1.234e-1', 0.1234],
  ['0xDEADBEEF', 3735928559],
  ['0xDeadBeef', 3735928559],
  ['"" ', ''],
  ['"Hello! " ', 'Hello! '],
  ["'Hello! ' ", 'Hello! '],
  ['"he said, \\"Hello!\\""', 'he said, "Hello!"'],
  ['"he said, \\"Tch\\u00FCss!\\""', 'he said, "Tchüss!"'],
  ['3 + 4', 7],
  ['3 + 4 * 5', 23],
  ['3 + 4 / 4', 4],
  ['3 - 4', -1],
  ['3 - (4 + 0x10)', -17],
  ['3 * 4', 12],
  ['3 / 4', 0.75],
  ['3 / 0', Infinity],
  ['-3 / 0', -Infinity],
  ['3 % 4', 3],
  ['3 % 0', undefined],
  ['0 % 3', 0],
  ['-1.234', -1.234],
  ['-1.234 + 0.004', -1.23],
  ['-(1.234 + 2)', -3.234],
  ['1 - -2', 3],
];

/** Conditions edgeHub refuses with a syntax error. */
export const SYNTAX_ERROR_CASES: readonly string[] = [
  `"unterminated = 'unterminated'`,
  '@32 = 32',
  '32 = [32]',
  '(@)',
];

/** Paths after `$body.`: valid, or refused. */
export const BODY_PATH_CASES: readonly (readonly [path: string, valid: boolean])[] = [
  ['root', true],
  ['ROOT', true],
  ['root.level1', true],
  ['ROOT.LEVEL1', true],
  ['root.level1.level2.level3.level4', true],
  ['root.level1[0]', true],
  ['root.level1[0].level2[1].level3[3].level4[5]', true],
  ['root[10000]', true],
  ['123abc', true],
  ['message.Weather.HistoricalData[0].Temperature[1]', true],
  ['', false],
  ['root.', false],
  ['ROOT[', false],
  ['root.level1.', false],
  ['root.level1..level2', false],
  ['ROOT.LEVEL1.', false],
  ['root.level1[', false],
  ['root.level1[]', false],
  ["root.level1['test']", false],
  ['root.level1["test"]', false],
  ['root.level1[].level2[1].level3[3].level4[5]', false],
  ['root[10000].level1.[1]', false],
  ['root[10000].level1[1].level2[]', false],
  ['       test root[10000].level1[1].level2[]', false],
];
