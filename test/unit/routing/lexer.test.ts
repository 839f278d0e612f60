import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, type Token } from '../../../src/runtime/routing/lexer.js';
import { RouteError } from '../../../src/runtime/routing/errors.js';

const kinds = (text: string) => tokenize(text).map((token) => `${token.kind}:${String(token.value)}`);
const only = (text: string): Token => {
  const tokens = tokenize(text);
  assert.equal(tokens.length, 2, `one token in ${text}`);
  return tokens[0]!;
};

function failsAt(text: string, position: number, problem: RegExp): void {
  assert.throws(
    () => tokenize(text),
    (error: unknown) =>
      error instanceof RouteError && error.position === position && problem.test(error.problem),
  );
}

test('numbers: integers, reals with exponent, leading dot, hex', () => {
  assert.equal(only('42').value, 42);
  assert.equal(only('3.25').value, 3.25);
  assert.equal(only('1e3').value, 1000);
  assert.equal(only('2.5E-2').value, 0.025);
  assert.equal(only('1e+2').value, 100);
  assert.equal(only('.5').value, 0.5);
  assert.equal(only('0x1F').value, 31);
  assert.equal(only('0XfF').value, 255);
});

test('a minus sign is an operator, so 3-1 is a subtraction', () => {
  assert.deepEqual(kinds('3-1'), ['number:3', 'op:-', 'number:1', 'eof:']);
  assert.deepEqual(kinds('-5'), ['op:-', 'number:5', 'eof:']);
});

test('numbers glued to letters are errors', () => {
  failsAt('a = 30abc', 5, /invalid number '30abc'/);
  failsAt('1.2.3', 1, /invalid number/);
  failsAt('0x', 1, /invalid number/);
});

test('strings in single or double quotes with escapes', () => {
  assert.equal(only(`'it\\'s'`).value, "it's");
  assert.equal(only(`"say \\"hi\\""`).value, 'say "hi"');
  assert.equal(only(`'back\\\\slash'`).value, 'back\\slash');
  assert.equal(only(`'\\u00e9t\\u00E9'`).value, 'été');
  assert.equal(only(`"it's"`).value, "it's");
  assert.equal(only(`''`).value, '');
  assert.equal(only(`'a /* not a comment */ b'`).value, 'a /* not a comment */ b');
});

test('string errors: unterminated, unknown escape', () => {
  failsAt(`a = 'abc`, 5, /unterminated string/);
  failsAt(`a = "abc\\"`, 5, /unterminated string/);
  failsAt(`a = 'a\\nb'`, 7, /invalid escape/);
  failsAt(`a = '\\u12'`, 6, /invalid escape/);
});

test('literals are lower case only; other cases are rejected with a hint', () => {
  assert.deepEqual(kinds('true false null undefined'), [
    'literal:true',
    'literal:false',
    'literal:null',
    'literal:undefined',
    'eof:',
  ]);
  failsAt('x = TRUE', 5, /'TRUE' is not a literal; literals are lower case: true/);
  failsAt('x = Null', 5, /lower case: null/);
});

test('keywords in any case', () => {
  assert.deepEqual(kinds('AND and AnD or OR Not nOT'), [
    'keyword:and',
    'keyword:and',
    'keyword:and',
    'keyword:or',
    'keyword:or',
    'keyword:not',
    'keyword:not',
    'eof:',
  ]);
  assert.deepEqual(kinds('select FROM Where INTO'), [
    'keyword:select',
    'keyword:from',
    'keyword:where',
    'keyword:into',
    'eof:',
  ]);
  assert.deepEqual(kinds('android oregon nothing'), ['name:android', 'name:oregon', 'name:nothing', 'eof:']);
});

test('names: dots and inner dashes belong to the name; $ names may hold [ ]', () => {
  assert.deepEqual(kinds('a.b alert-level x - y a -1'), [
    'name:a.b',
    'name:alert-level',
    'name:x',
    'op:-',
    'name:y',
    'name:a',
    'op:-',
    'number:1',
    'eof:',
  ]);
  assert.deepEqual(kinds('$body.a[0].b $absolute-expiry-time'), [
    'dollar:$body.a[0].b',
    'dollar:$absolute-expiry-time',
    'eof:',
  ]);
  assert.deepEqual(kinds('_x température'), ['name:_x', 'name:température', 'eof:']);
  failsAt('a = $ ', 5, /expected a property name after '\$'/);
});

test('$ names run to whitespace or ( ) < > @ , ; : \\ " / ? = { }, as IoT Edge\'s grammar has it', () => {
  assert.deepEqual(kinds(`$body.Welcome!.he $body.I'm%1.es $a+b*c|d&e`), [
    'dollar:$body.Welcome!.he',
    "dollar:$body.I'm%1.es",
    'dollar:$a+b*c|d&e',
    'eof:',
  ]);
  assert.deepEqual(kinds(`$a='x'`), ['dollar:$a', 'op:=', 'string:x', 'eof:']);
  assert.deepEqual(kinds('$a<>1 $b>=2 $c??3'), [
    'dollar:$a',
    'op:<>',
    'number:1',
    'dollar:$b',
    'op:>=',
    'number:2',
    'dollar:$c',
    'op:??',
    'number:3',
    'eof:',
  ]);
  assert.deepEqual(kinds('{$body.x}/* c */,($y)'), [
    'op:{',
    'dollar:$body.x',
    'op:}',
    'op:,',
    'op:(',
    'dollar:$y',
    'op:)',
    'eof:',
  ]);
  assert.deepEqual(
    kinds('$a!=1 $b!x'),
    ['dollar:$a', 'op:!=', 'number:1', 'dollar:$b!x', 'eof:'],
    '!= stays an operator',
  );
  failsAt('$:x', 1, /expected a property name after '\$'/);
});

test('operators, longest first', () => {
  assert.deepEqual(kinds('<= >= <> != < > = || ?? + - * / % ( ) , { }'), [
    'op:<=',
    'op:>=',
    'op:<>',
    'op:!=',
    'op:<',
    'op:>',
    'op:=',
    'op:||',
    'op:??',
    'op:+',
    'op:-',
    'op:*',
    'op:/',
    'op:%',
    'op:(',
    'op:)',
    'op:,',
    'op:{',
    'op:}',
    'eof:',
  ]);
  assert.deepEqual(kinds('a!=b'), ['name:a', 'op:!=', 'name:b', 'eof:']);
});

test('whitespace and comments are skipped; offsets are kept', () => {
  const tokens = tokenize(' a /* c1 */=\n\t/* c2 */ 1 /**/');
  assert.deepEqual(
    tokens.map((token) => [token.kind, token.offset]),
    [
      ['name', 1],
      ['op', 11],
      ['number', 23],
      ['eof', 29],
    ],
  );
  failsAt('a = 1 /* open', 7, /unterminated comment/);
});

test('tokenizing can start in the middle of a text; offsets stay absolute', () => {
  const tokens = tokenize('FROM /x WHERE a', 8);
  assert.deepEqual(
    tokens.map((token) => [token.value, token.offset]),
    [
      ['where', 8],
      ['a', 14],
      ['', 15],
    ],
  );
});

test('unknown characters are errors with their position', () => {
  failsAt('a = @b', 5, /unexpected character "@"/);
  failsAt('a & b', 3, /unexpected character "&"/);
  failsAt('a ! b', 3, /unexpected character "!"/);
  failsAt('a | b', 3, /unexpected character "\|"/);
  failsAt('a ? b', 3, /unexpected character "\?"/);
  failsAt('a = [1]', 5, /unexpected character "\["/);
});
