import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCondition } from '../../../../src/runtime/hub/routing/condition.js';
import { RouteError } from '../../../../src/runtime/hub/routing/errors.js';
import type { HubMessage } from '../../../../src/runtime/hub/message.js';

function message(fields: Partial<HubMessage> & { json?: unknown } = {}): HubMessage {
  const { json, ...rest } = fields;
  return {
    body: Buffer.from(json === undefined ? '' : JSON.stringify(json)),
    properties: {},
    systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8' },
    source: '/messages/modules/m1/outputs/out1',
    ...rest,
  };
}

const value = (condition: string, of: HubMessage = message()) => compileCondition(condition).evaluate(of);

function failsAt(condition: string, position: number, problem: RegExp): void {
  assert.throws(
    () => compileCondition(condition),
    (error: unknown) => {
      assert.ok(error instanceof RouteError, `RouteError for ${condition}`);
      assert.equal(error.position, position, `position of "${error.problem}" in ${condition}`);
      assert.match(error.problem, problem);
      return true;
    },
  );
}

test('literals', () => {
  assert.equal(value('true'), true);
  assert.equal(value('false'), false);
  assert.equal(value('null'), null);
  assert.equal(value('undefined'), undefined);
  assert.equal(value('0x10 = 16'), true);
  assert.equal(value('1.5e1 = 15'), true);
  assert.equal(value('-0x10 = -16'), true);
  assert.equal(value('.5 = 0.5'), true);
  assert.equal(value(`'\\u0041' = "A"`), true);
  assert.equal(value(`'it\\'s' = "it's"`), true);
});

test('matches is true only for a final true', () => {
  const of = message();
  assert.equal(compileCondition('true').matches(of), true);
  for (const condition of ['false', 'null', 'undefined', '$body.missing']) {
    assert.equal(compileCondition(condition).matches(of), false, condition);
  }
});

test('precedence: * / % over + - ||, over comparisons, over equality, over AND, OR, ??', () => {
  assert.equal(value('1 + 2 * 3 = 7'), true);
  assert.equal(value('(1 + 2) * 3 = 9'), true);
  assert.equal(value('10 - 4 - 3 = 3'), true, 'left-associative');
  assert.equal(value('64 / 4 / 2 = 8'), true, 'left-associative');
  assert.equal(value('2 * 3 % 4 = 2'), true);
  assert.equal(value('-2 * 3 = -6'), true);
  assert.equal(value('-(1 + 2) = -3'), true);
  assert.equal(value('- -3 = 3'), true);
  assert.equal(value('3-1 = 2'), true);
  assert.equal(value(`'a' || 'b' = 'ab'`), true);
  assert.equal(value('1 + 2 < 4'), true);
  assert.equal(value('1 < 2 = true'), true, 'comparison binds tighter than equality');
  assert.equal(value('true OR false AND false'), true, 'AND binds tighter than OR');
  assert.equal(value('(true OR false) AND false'), false);
  assert.equal(value('NOT false AND false'), false, 'NOT binds tighter than AND');
  assert.equal(value('NOT (false AND false)'), true);
  assert.equal(value('undefined ?? 1 = 1'), true, '?? binds loosest');
  assert.equal(value('undefined ?? false OR true'), true);
  assert.equal(value('$body.missing ?? 5 > 3'), true);
});

test('arithmetic', () => {
  assert.equal(value('7 / 2 = 3.5'), true);
  assert.equal(value('7 % 4 = 3'), true);
  assert.equal(value('1 / 0 > 1000'), true);
  assert.equal(value('is_defined(0 / 0)'), false, 'NaN is undefined');
  assert.equal(value('$body.missing + 1 = 1'), undefined);
});

const TRUTH: Record<string, boolean | undefined> = { true: true, false: false, undefined: undefined };

test('Kleene AND, OR and NOT over true, false, undefined', () => {
  const and = (a: boolean | undefined, b: boolean | undefined) =>
    a === false || b === false ? false : a === true && b === true ? true : undefined;
  const or = (a: boolean | undefined, b: boolean | undefined) =>
    a === true || b === true ? true : a === false && b === false ? false : undefined;
  for (const [left, a] of Object.entries(TRUTH)) {
    assert.equal(value(`NOT ${left}`), a === undefined ? undefined : !a, `NOT ${left}`);
    for (const [right, b] of Object.entries(TRUTH)) {
      assert.equal(value(`${left} AND ${right}`), and(a, b), `${left} AND ${right}`);
      assert.equal(value(`${left} OR ${right}`), or(a, b), `${left} OR ${right}`);
    }
  }
});

test('null and non-boolean $body values are unknown in logic', () => {
  assert.equal(value('null AND true'), undefined);
  assert.equal(value('null OR true'), true);
  assert.equal(value('null AND false'), false);
  assert.equal(value('NOT null'), undefined);
  const of = message({ json: { s: 'yes', flag: true } });
  assert.equal(value('$body.s AND true', of), undefined);
  assert.equal(value('$body.flag AND true', of), true);
  assert.equal(value('NOT $body.flag', of), false);
  assert.equal(compileCondition('$body.s').matches(of), false);
});

test('comparisons with undefined are undefined; null equals only null', () => {
  assert.equal(value('undefined = 1'), undefined);
  assert.equal(value('undefined = undefined'), undefined);
  assert.equal(value('undefined != 1'), undefined);
  assert.equal(value('null = null'), true);
  assert.equal(value('null = 1'), false);
  assert.equal(value('null != 1'), true);
  assert.equal(value('null <> null'), false);
  assert.equal(value(`a = null`, message({ properties: { a: 'x' } })), false);
  assert.equal(value(`a = null`), undefined, 'a missing property is undefined, not null');
});

test('equality and ordering', () => {
  assert.equal(value('1 = 1.0'), true);
  assert.equal(value('1 != 2'), true);
  assert.equal(value('1 <> 1'), false);
  assert.equal(value('2 >= 2 AND 2 <= 2 AND 1 < 2 AND 2 > 1'), true);
  assert.equal(value(`'B' < 'a'`), true, 'ordinal string order');
  assert.equal(value(`'a' = 'A'`), false, 'values are case-sensitive');
  assert.equal(value(`'abc' > 'abb'`), true);
  assert.equal(value('true = true'), true);
  assert.equal(value('true != false'), true);
});

test('$body values compare with their own type only', () => {
  const of = message({ json: { n: 5, s: '5', t: 'b', yes: true, nothing: null } });
  assert.equal(value('$body.n = 5', of), true);
  assert.equal(value(`$body.n = '5'`, of), undefined);
  assert.equal(value(`$body.s = '5'`, of), true);
  assert.equal(value('$body.s = 5', of), undefined);
  assert.equal(value('$body.s > 4', of), undefined);
  assert.equal(value(`$body.t > 'a'`, of), true);
  assert.equal(value('$body.yes = true', of), true);
  assert.equal(value('$body.nothing = null', of), true);
  assert.equal(value('$body.nothing = 0', of), false);
  assert.equal(value('$body.n = $body.s', of), undefined);
  assert.equal(value('$body.n + 1 = 6', of), true);
  assert.equal(value(`$body.s || 'x' = '5x'`, of), true);
  assert.equal(value(`is_defined($body.n || 'x')`, of), false);
});

test('bare names are application properties: names case-insensitive, values not', () => {
  const of = message({ properties: { Alert: 'yes' } });
  assert.equal(value(`alert = 'yes'`, of), true);
  assert.equal(value(`ALERT = 'yes'`, of), true);
  assert.equal(value(`alert = 'YES'`, of), false);
  assert.equal(value(`missing = 'x'`, of), undefined);
  assert.equal(value('NOT is_defined(missing)', of), true);
  const both = message({ properties: { a: 'lower', A: 'upper' } });
  assert.equal(value(`a = 'lower' AND A = 'upper'`, both), true, 'an exact spelling wins');
  assert.equal(value(`constructor = 'x'`), undefined, 'no prototype properties');
  assert.equal(value(`is_defined(toString)`), false);
  const dotted = message({ properties: { 'alert.level': 'high', 'x-y': '1' } });
  assert.equal(value(`alert.level = 'high' AND x-y = '1'`, dotted), true);
});

test('$name: system properties by IoT Hub name, case-insensitively', () => {
  const of = message({
    systemProperties: {
      connectionDeviceId: 'dev1',
      connectionModuleId: 'm1',
      correlationId: 'c-1',
      messageId: 'id-1',
      absoluteExpiryTime: '2030',
    },
  });
  assert.equal(value(`$connectionDeviceId = 'dev1'`, of), true);
  assert.equal(value(`$CONNECTIONMODULEID = 'm1'`, of), true);
  assert.equal(value(`$correlationId = 'c-1'`, of), true, 'IoT Hub semantics, not the edge quirk');
  assert.equal(value(`$cid = 'c-1'`, of), true, "IoT Edge's internal name still works");
  assert.equal(value(`$absolute-expiry-time = '2030'`, of), true);
  assert.equal(value(`$messageId = 'id-1'`, of), true);
  assert.equal(value(`is_defined($userId)`, of), false);
  assert.equal(value(`is_defined($unknownThing)`, of), false);
});

test('$name prefers an application property literally named $name; {$name} forces the system one', () => {
  const of = message({
    properties: { $messageId: 'app', $custom: 'c' },
    systemProperties: { messageId: 'system' },
  });
  assert.equal(value(`$messageId = 'app'`, of), true);
  assert.equal(value(`{$messageId} = 'system'`, of), true);
  assert.equal(value(`{ $MessageId } = 'system'`, of), true);
  assert.equal(value(`$custom = 'c'`, of), true);
  assert.equal(value(`is_defined({$custom})`, of), false);
});

test('$body queries: nested keys, array indices, null, missing, objects', () => {
  const of = message({
    json: { a: { b: [1, { c: null, d: 'x' }], e: [[7, 8]] }, flag: false, Temp: 3 },
    properties: { '$body.a': 'app' },
  });
  assert.equal(value('$body.a.b[0] = 1', of), true);
  assert.equal(value(`$body.a.b[1].d = 'x'`, of), true);
  assert.equal(value('$body.a.e[0][1] = 8', of), true);
  assert.equal(value('$body.a.b[1].c = null', of), true);
  assert.equal(value('is_null($body.a.b[1].c)', of), true);
  assert.equal(value('is_defined($body.a.b[1].c)', of), true);
  assert.equal(value('is_defined($body.missing)', of), false, 'missing is undefined (IoT Hub), not null');
  assert.equal(value('is_defined($body.a.b[9])', of), false);
  assert.equal(value('is_defined($body.a.b[0].x)', of), false);
  assert.equal(value('is_defined($body.a)', of), false, 'an object is undefined');
  assert.equal(value('is_defined($body.a.b)', of), false, 'an array is undefined');
  assert.equal(value('$body.flag = false', of), true);
  assert.equal(value('$BODY.Temp = 3', of), true, '$body is case-insensitive');
  assert.equal(value('is_defined($body.temp)', of), false, 'JSON keys are case-sensitive');
  assert.equal(value('is_defined($body.constructor)', of), false);
  assert.equal(value('is_defined($body.a.b.length)', of), false);
});

test('?? gives the left side when it is defined (null is defined)', () => {
  const of = message({ properties: { a: 'x' }, json: { n: null, v: 2 } });
  assert.equal(value(`(a ?? 'none') = 'x'`, of), true);
  assert.equal(value(`(b ?? 'none') = 'none'`, of), true);
  assert.equal(value('($body.missing ?? 1) = 1', of), true);
  assert.equal(value('is_null($body.n ?? 1)', of), true);
  assert.equal(value('($body.v ?? 1) = 2', of), true);
});

test('type errors name the operator position', () => {
  const hint = /application and system properties are strings/;
  failsAt('temp > 30', 6, /operator '>' cannot compare a string with a number/);
  failsAt('temp > 30', 6, hint);
  failsAt('30 <= temp', 4, hint);
  failsAt('temp = 30', 6, hint);
  failsAt('$connectionModuleId != 5', 21, /cannot compare a string with a number/);
  failsAt(`1 = 'a'`, 3, /cannot compare a number with a string/);
  failsAt('true = 1', 6, /cannot compare a boolean with a number/);
  failsAt(`1 + 'a'`, 3, /operator '\+' expects numbers, found a string/);
  failsAt(`'a' + 'b' = 'ab'`, 5, /join strings with \|\| or concat\(\)/);
  failsAt('temp * 2 > 1', 6, /expects numbers, found a string \(application/);
  failsAt(`'a' || 1 = 'a1'`, 5, /operator '\|\|' expects strings, found a number/);
  failsAt('true < false', 6, /expects numbers or strings, found a boolean/);
  failsAt('1 AND true', 3, /operator 'AND' expects booleans, found a number/);
  failsAt(`true or 'x'`, 6, /operator 'OR' expects booleans, found a string/);
  failsAt(`NOT 'a'`, 1, /operator 'NOT' expects a boolean/);
  failsAt(`NOT a = 'b'`, 1, /NOT binds tighter than comparisons: write NOT \(a = b\)/);
  failsAt(`-'a' = 1`, 1, /operator '-' expects a number, found a string/);
  failsAt(`(1 ?? 'a') = 1`, 4, /operator '\?\?' expects both sides of the same type/);
  failsAt('null < 1', 6, /operator '<' cannot compare null with a number/);
  failsAt('1 < 2 < 3', 7, /cannot compare a boolean with a number/);
});

test('the condition must be boolean', () => {
  failsAt('1 + 2', 3, /the condition must be a boolean, found a number/);
  failsAt(`'a'`, 1, /must be a boolean, found a string/);
  failsAt(`alert`, 1, /found a string/);
  assert.equal(value('$body.x'), undefined, 'a $body value may be boolean');
});

test('literal null and undefined compare with anything', () => {
  assert.doesNotThrow(() => compileCondition(`a = null OR $x != undefined OR 1 = null OR true <> undefined`));
});

test('syntax errors', () => {
  failsAt('', 1, /the condition is empty/);
  failsAt('  /* only a comment */ ', 1, /the condition is empty/);
  failsAt('a =', 4, /expected an expression, found end of text/);
  failsAt('a = = b', 5, /expected an expression, found '='/);
  failsAt(`a 'b'`, 3, /unexpected 'b'/);
  failsAt('(1 = 1', 7, /expected '\)' to close the '\(' at position 1/);
  failsAt('1 = 1)', 6, /unexpected '\)'/);
  failsAt('{a} = 1', 2, /expected a \$name after '\{'/);
  failsAt(`{$a = 'x'`, 5, /expected '\}'/);
  failsAt(`$foo[0] = 'x'`, 1, /'\[' and '\]' are only allowed in \$body paths/);
  failsAt('$body.a..b = 1', 1, /invalid path 'a..b'/);
  failsAt('$body.a[x] = 1', 1, /invalid path/);
  failsAt('$body.[0] = 1', 1, /invalid path/);
  failsAt('a = 1 INTO', 7, /unexpected INTO/);
  failsAt('WHERE a', 1, /expected an expression, found WHERE/);
  failsAt('abs(1, ', 8, /expected an expression/);
  failsAt('abs(1 2)', 7, /expected ',' or '\)' in the arguments of abs/);
});

test('comments and whitespace anywhere', () => {
  assert.equal(value('/* lead */ 1 /* mid */ = /* x */\n\t1 /* tail */'), true);
  assert.equal(value(`'/* kept */' = '/* kept */'`), true);
});
