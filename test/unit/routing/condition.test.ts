import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCondition } from '../../../src/runtime/routing/condition.js';
import { RouteError } from '../../../src/runtime/routing/errors.js';
import type { HubMessage } from '../../../src/runtime/routing/message.js';

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
  assert.equal(value('$body.missing ?? 1 = 1'), true, '?? binds loosest: $body.missing ?? (1 = 1)');
  assert.equal(value('$body.missing ?? false OR true'), true);
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

test('the literal null is falsy in logic (IoT Edge): NOT null is true, null AND x is null', () => {
  // edgeHub's condition tables: null and null -> false, (null and false) = null, (null and true) = null,
  // null or true -> true, null or false -> false, (null or null) = null, null -> false, not null -> true.
  assert.equal(value('null AND true'), null);
  assert.equal(value('null AND false'), null);
  assert.equal(value('false AND null'), null);
  assert.equal(value('null AND undefined'), null);
  assert.equal(value('(null AND false) = null'), true);
  assert.equal(value('null OR true'), true);
  assert.equal(value('null OR false'), false);
  assert.equal(value('false OR null'), false);
  assert.equal(value('null OR undefined'), undefined);
  assert.equal(value('null OR null'), null);
  assert.equal(value('NOT null'), true);
  assert.equal(value('NOT (null AND true)'), true);
  assert.equal(compileCondition('null').truth(message()), false, 'a null condition is false, not unknown');
  assert.equal(compileCondition('null AND null').truth(message()), false);
  assert.equal(compileCondition('NOT null').matches(message()), true);
});

test('a null or a non-boolean read from the body is unknown in logic', () => {
  const of = message({ json: { s: 'yes', flag: true, nothing: null } });
  assert.equal(value('$body.s AND true', of), undefined);
  assert.equal(value('$body.flag AND true', of), true);
  assert.equal(value('NOT $body.flag', of), false);
  assert.equal(value('NOT $body.nothing', of), undefined);
  assert.equal(value('$body.nothing OR false', of), undefined);
  assert.equal(value('$body.nothing AND false', of), false);
  assert.equal(compileCondition('$body.s').matches(of), false);
  assert.equal(compileCondition('$body.nothing').truth(of), undefined);
});

test('comparisons with undefined are undefined; null equals only null', () => {
  const of = message({ json: { n: 1, nothing: null } });
  assert.equal(value(`missing = 'x'`, of), undefined, 'a missing property is undefined, not null');
  assert.equal(value(`missing != 'x'`, of), undefined);
  assert.equal(value('$body.missing = 1', of), undefined);
  assert.equal(value('$body.missing = null', of), undefined);
  assert.equal(value('undefined = undefined'), undefined);
  assert.equal(value('undefined < undefined'), undefined);
  assert.equal(value('null = null'), true);
  assert.equal(value('null <> null'), false);
  assert.equal(value('null <= null AND null >= null'), true);
  assert.equal(value('null < null OR null > null'), false);
  assert.equal(value('$body.nothing = null', of), true);
  assert.equal(value('$body.n = null', of), false);
  assert.equal(value('$body.n != null', of), true);
  assert.equal(value('$body.nothing < 2', of), undefined, 'null has no order with a number');
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
  assert.equal(value('false < true AND true >= true'), true, 'false orders before true');
});

test('$body values of different types are unequal, and unordered', () => {
  const of = message({ json: { n: 5, s: '5', t: 'b', yes: true, nothing: null } });
  assert.equal(value('$body.n = 5', of), true);
  assert.equal(value(`$body.n = '5'`, of), false, 'no conversion between types (IoT Edge)');
  assert.equal(value(`$body.n <> '5'`, of), true);
  assert.equal(value(`$body.n != '100'`, of), true);
  assert.equal(value(`$body.s = '5'`, of), true);
  assert.equal(value('$body.s = 5', of), false);
  assert.equal(value('$body.yes = 1', of), false);
  assert.equal(value('$body.n = $body.s', of), false);
  assert.equal(value('$body.n <> $body.s', of), true);
  assert.equal(value('$body.s > 4', of), undefined, 'a string has no order with a number');
  assert.equal(value('$body.n < $body.s', of), undefined);
  assert.equal(value(`$body.t > 'a'`, of), true);
  assert.equal(value('$body.yes = true', of), true);
  assert.equal(value('$body.nothing = null', of), true);
  assert.equal(value('$body.nothing = 0', of), false);
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

test('an application property named like a $body path wins over the body; {$body...} reads the body', () => {
  const of = message({
    json: { t: 50, loc: { state: 'WA' } },
    properties: { '$body.t': '100', '$Body.Loc.State': 'CA' },
  });
  assert.equal(value(`$body.t = '100'`, of), true, 'the application property, a string');
  assert.equal(value('as_number($body.t) = 100', of), true);
  assert.equal(value('{$body.t} = 50', of), true, 'escaped: the body');
  assert.equal(value(`{ $body.t } <> '100'`, of), true);
  assert.equal(value(`$body.loc.state = 'CA'`, of), true, 'property names are case-insensitive');
  assert.equal(value(`{$body.loc.state} = 'WA'`, of), true);
  assert.equal(value(`$body.other = 'x'`, of), undefined, 'no such property: the body, where it is missing');
});

test('$body paths may hold any character but whitespace and ( ) < > @ , ; : \\ " / ? = { }', () => {
  const of = message({
    json: {
      'Welcome!': { he: 'ברוכים הבאים!' },
      "I'mnotusingspaces%1": { es: 'Estoy %1' },
      'a+b': 1,
      'x&y|z*#^~`': 2,
    },
  });
  assert.equal(value(`$body.Welcome!.he = 'ברוכים הבאים!'`, of), true);
  assert.equal(value(`$body.I'mnotusingspaces%1.es = 'Estoy %1'`, of), true);
  assert.equal(value('$body.a+b = 1', of), true, 'a + inside a $ name is part of it (IoT Edge)');
  assert.equal(value('$body.x&y|z*#^~` = 2', of), true);
  assert.equal(value('$body.a+b= 1', of), true);
  assert.equal(value('$body.Welcome!.missing!=1', of), undefined, 'a ! right before = is the operator !=');
  failsAt(`$body.Welcome!['I'm using spaces %1'] = 'x'`, 43, /unterminated string/);
  failsAt('$body.properties[] = 1', 1, /invalid path 'properties\[\]'/);
  failsAt('$body.properties[1:2] = 1', 19, /unexpected character ":"/);
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
  failsAt('1 AND true', 3, /operator 'AND' expects booleans, found a number/);
  failsAt(`true or 'x'`, 6, /operator 'OR' expects booleans, found a string/);
  failsAt(`NOT 'a'`, 1, /operator 'NOT' expects a boolean/);
  failsAt(`NOT a = 'b'`, 1, /NOT binds tighter than comparisons: write NOT \(a = b\)/);
  failsAt(`-'a' = 1`, 1, /operator '-' expects a number, found a string/);
  failsAt('null < 1', 6, /operator '<' cannot compare null with a number/);
  failsAt('1 < 2 < 3', 7, /cannot compare a boolean with a number/);
});

test('null compares only with null or a $body value, undefined only with undefined; ?? likewise', () => {
  // edgeHub refuses (key1 ?? null), (key1 ?? 12.34), (12.34 ?? key1), (key1 ?? true).
  failsAt('a = null', 3, /operator '=' cannot compare a string with null \(test for null with is_null/);
  failsAt('1 = null', 3, /cannot compare a number with null/);
  failsAt('null != true', 6, /cannot compare null with a boolean/);
  failsAt(
    '$x != undefined',
    4,
    /cannot compare a string with undefined \(test for undefined with is_defined/,
  );
  failsAt('undefined = $body.x', 11, /cannot compare undefined with a \$body value/);
  failsAt('(key1 ?? null) = null', 7, /operator '\?\?' cannot combine a string with null/);
  failsAt('(key1 ?? 12.34) = 1', 7, /cannot combine a string with a number \(application/);
  failsAt(`(1 ?? 'a') = 1`, 4, /operator '\?\?' cannot combine a number with a string/);
  failsAt('(undefined ?? 1) = 1', 12, /cannot combine undefined with a number/);
  failsAt('(key1 ?? true)', 7, /cannot combine a string with a boolean/);
  assert.doesNotThrow(() => compileCondition('$body.x = null OR ($body.x ?? 1) = 1 OR null = null'));
  assert.equal(value('undefined ?? undefined'), undefined);
});

test('a condition of any type compiles (IoT Hub: anything but true counts as false); only true routes', () => {
  const of = message({ properties: { alert: 'yes' }, json: { flag: true } });
  for (const condition of ['3', `'a string'`, '"a string"', 'alert', '$body', '1 + 2', 'null', 'undefined']) {
    assert.equal(compileCondition(condition).matches(of), false, condition);
  }
  assert.equal(compileCondition('3').truth(of), undefined);
  assert.equal(compileCondition('alert').truth(of), undefined);
  assert.equal(
    compileCondition('$body').truth(of),
    undefined,
    '$body alone is the property $body, not the body',
  );
  assert.equal(compileCondition('$body.flag').matches(of), true);
});

test('negating the literal undefined or null is undefined', () => {
  // edgeHub: is_defined(-undefined) -> false.
  assert.equal(value('is_defined(-undefined)'), false);
  assert.equal(value('is_defined(-null)'), false);
  failsAt('-(key1) = 1', 1, /operator '-' expects a number, found a string/);
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
