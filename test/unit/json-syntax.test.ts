import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findJsonSyntaxError, parseJsonQuietly } from '../../src/runtime/json-syntax.js';

const VALID = ['{}', '[]', ' {"a": [1, -2.5e+3, true, false, null, "x\\u00e9\\n"]} ', '"s"', '0'];

test('valid JSON has no syntax error', () => {
  for (const text of VALID) {
    assert.equal(findJsonSyntaxError(text), undefined, text);
    JSON.parse(text);
  }
});

test('invalid JSON is located by line and column with a reason', () => {
  const cases: [string, number, number, RegExp][] = [
    ['{\n  "a": 1,\n}', 3, 1, /^expected a property name in double quotes$/],
    ['{"a" 1}', 1, 6, /^unexpected character "1"$/],
    ['{"a": 1 "b": 2}', 1, 9, /^unexpected character "\\""$/],
    ['[1, 2', 1, 6, /^unexpected end of input$/],
    ['{"a": tru}', 1, 7, /^unexpected character "t"$/],
    ['{"a": 01}', 1, 8, /^unexpected character "1"$/],
    ['{"a": "x\ny"}', 1, 9, /^control character in string$/],
    ['{"a": "\\q"}', 1, 8, /^invalid escape in string$/],
    ['{"a": "\\u12x4"}', 1, 8, /^invalid \\u escape in string$/],
    ['{"a": "open', 1, 12, /^unterminated string$/],
    ['{"a": -}', 1, 7, /^invalid number$/],
    ['{} {}', 1, 4, /^unexpected data after the JSON value$/],
    ['', 1, 1, /^unexpected end of input$/],
    ["{'a': 1}", 1, 2, /^expected a property name/],
  ];
  for (const [text, line, column, reason] of cases) {
    assert.throws(() => JSON.parse(text), SyntaxError, text);
    const error = findJsonSyntaxError(text);
    assert.ok(error, text);
    assert.equal(error.line, line, text);
    assert.equal(error.column, column, text);
    assert.match(error.reason, reason, text);
  }
});

test('the offset is 0-based over the whole text and agrees with line and column', () => {
  const cases: [string, number][] = [
    ['{"a":}', 5],
    ['{"a":1', 6],
    ['{"a":1} x', 8],
    ["{'a':1}", 1],
    ['{"a":"\\q"}', 6],
    ['{"a":01}', 6],
    ['{"a":tru}', 5],
    ['{\n  "a": 1,\n}', 12],
  ];
  for (const [text, offset] of cases) {
    const error = findJsonSyntaxError(text);
    assert.ok(error, text);
    assert.equal(error.offset, offset, text);
    const lines = text.slice(0, offset).split('\n');
    assert.deepEqual([error.line, error.column], [lines.length, lines.at(-1)!.length + 1], text);
  }
});

test('the reason never quotes string content (a password stays out of messages)', () => {
  const error = findJsonSyntaxError('{"password": "hunter2"\n"next": 1}');
  assert.ok(error);
  assert.doesNotMatch(error.reason, /hunter2/);
  assert.deepEqual([error.line, error.column], [2, 1]);
});

test('nesting deep enough to exhaust the stack is still reported', () => {
  const text = '['.repeat(1_000_000);
  assert.throws(() => JSON.parse(text));
  assert.equal(findJsonSyntaxError(text)?.reason, 'nested too deeply');
});

test('parseJsonQuietly returns the parsed value of valid JSON', () => {
  for (const text of VALID) assert.deepEqual(parseJsonQuietly(text), { ok: true, value: JSON.parse(text) });
});

test('parseJsonQuietly reports the reason and 0-based position, never the text', () => {
  const cases: [string, string][] = [
    ['{', 'unexpected end of input at position 1'],
    ['{"a":}', 'unexpected character "}" at position 5'],
    ['{"a":1} x', 'unexpected data after the JSON value at position 8'],
    ['{\n"a": 1,\n}', 'expected a property name in double quotes at position 10'],
  ];
  for (const [text, message] of cases) assert.deepEqual(parseJsonQuietly(text), { ok: false, message }, text);

  const secret = 'S3cr3tT0k3n';
  for (const text of [`{"Env":["TOKEN=${secret}"]`, `{"Env":["TOKEN=${secret}"]} trailing`, secret]) {
    const parsed = parseJsonQuietly(text);
    assert.equal(parsed.ok, false, text);
    assert.ok(!parsed.ok && !parsed.message.includes('S3c'), text);
  }
});
