import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCondition } from '../../../src/runtime/routing/condition.js';
import { RouteError } from '../../../src/runtime/routing/errors.js';
import type { HubMessage } from '../../../src/runtime/routing/message.js';

const BODY = { n: -2.5, s: 'Hello', t: 'true', num: ' 42.5 ', nothing: null, yes: true };

function message(properties: Record<string, string> = {}): HubMessage {
  return {
    body: Buffer.from(JSON.stringify(BODY)),
    properties,
    systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8' },
    source: '/messages/modules/m1',
  };
}

const value = (condition: string, of: HubMessage = message()) => compileCondition(condition).evaluate(of);
const holds = (condition: string, of?: HubMessage) => assert.equal(value(condition, of), true, condition);

function failsAt(condition: string, position: number, problem: RegExp): void {
  assert.throws(
    () => compileCondition(condition),
    (error: unknown) => {
      assert.ok(error instanceof RouteError);
      assert.equal(error.position, position, `position of "${error.problem}"`);
      assert.match(error.problem, problem);
      return true;
    },
  );
}

test('math functions', () => {
  holds('abs(-3) = 3');
  holds('abs($body.n) = 2.5');
  holds('exp(0) = 1');
  holds('power(2, 10) = 1024');
  holds('square(-4) = 16');
  holds('ceiling(1.2) = 2');
  holds('ceiling(-1.2) = -1');
  holds('floor(1.8) = 1');
  holds('floor(-1.2) = -2');
  holds('sign(-7) = -1 AND sign(0) = 0 AND sign(3.5) = 1');
  holds('sqrt(16) = 4');
  holds('NOT is_defined(sqrt(-1))');
  holds('NOT is_defined(abs($body.s))');
  holds('NOT is_defined(power($body.s, 2))');
  holds('NOT is_defined(abs($body.missing))');
});

test('function names are case-insensitive', () => {
  holds('ABS(-1) = 1 AND Is_Defined($body.s) AND UPPER($body.s) = "HELLO"');
});

test('as_number converts numeric strings and passes numbers', () => {
  holds(`as_number('30') = 30`);
  holds(`as_number('-1.5e2') = -150`);
  holds(`as_number('.5') = 0.5`);
  holds('as_number(12) = 12');
  holds('as_number($body.num) = 42.5', message());
  holds('as_number(temp) > 30', message({ temp: '31' }));
  holds(`NOT is_defined(as_number('abc'))`);
  holds(`NOT is_defined(as_number(''))`);
  holds(`NOT is_defined(as_number('0x10'))`);
  holds('NOT is_defined(as_number($body.yes))');
  holds('NOT is_defined(as_number(temp))');
});

test('type tests', () => {
  holds('is_bool(true) AND is_bool($body.yes) AND NOT is_bool($body.t) AND NOT is_bool(1)');
  holds('is_defined(1) AND is_defined(null) AND NOT is_defined(undefined) AND NOT is_defined($body.x)');
  holds('is_null(null) AND is_null($body.nothing) AND NOT is_null(undefined) AND NOT is_null($body.x)');
  holds(`is_number(1) AND is_number($body.n) AND NOT is_number('1') AND NOT is_number($body.s)`);
  holds('NOT is_number(1 / 0) AND is_defined(1 / 0)', message());
  holds(`is_string('') AND is_string($body.s) AND NOT is_string(1) AND NOT is_string($body.x)`);
  holds('is_string(alert)', message({ alert: 'x' }));
  holds('NOT is_string(alert)', message());
});

test('string functions', () => {
  holds(`concat('a', 'b') = 'ab'`);
  holds(`concat('a', $body.s, 'c', 'd') = 'aHellocd'`);
  holds(`NOT is_defined(concat('a', $body.n))`);
  holds(`NOT is_defined(concat('a', missing))`);
  holds(`length('héllo') = 5`);
  holds(`length($body.s) = 5 AND NOT is_defined(length($body.n))`);
  holds(`lower('AbC') = 'abc' AND upper('AbC') = 'ABC'`);
  holds(`substring('abcdef', 2) = 'cdef'`);
  holds(`substring('abcdef', 2, 3) = 'cde'`);
  holds(`substring('abcdef', 6) = ''`);
  holds(`NOT is_defined(substring('abc', 4))`);
  holds(`NOT is_defined(substring('abc', 1, 5))`);
  holds(`NOT is_defined(substring('abc', -1))`);
  holds(`NOT is_defined(substring('abc', 1.5))`);
  // IoT Edge: with a length, the start must be inside the string; an undefined length is undefined.
  holds(`substring('abc', 2, 1) = 'c'`);
  holds(`NOT is_defined(substring('abc', 3, 0))`);
  holds(`NOT is_defined(substring('abc', 1, 1 % 0))`);
  holds(`NOT is_defined(substring('abc', 1, $body.missing))`);
  holds(`index_of('abcabc', 'ca') = 2 AND index_of('abc', 'x') = -1 AND index_of('abc', 'B') = -1`);
  holds(`starts_with('abc', 'ab') AND NOT starts_with('abc', 'AB')`);
  holds(`ends_with('abc', 'bc') AND NOT ends_with('abc', 'b')`);
  holds(`contains('abc', 'b') AND NOT contains('abc', 'd')`);
  holds(`contains($body.s, 'ell')`);
  holds(`NOT is_defined(contains($body.n, 'x'))`);
});

test('unknown functions are compile errors at the name', () => {
  failsAt('foo(1) = 1', 1, /unknown function 'foo'/);
  failsAt(`$body.x = 1 AND lenght('a') = 1`, 17, /unknown function 'lenght'/);
});

test('wrong arity', () => {
  failsAt('abs() = 1', 1, /abs expects 1 argument, found 0/);
  failsAt('abs(1, 2) = 1', 1, /abs expects 1 argument, found 2/);
  failsAt('power(2) = 1', 1, /power expects 2 arguments, found 1/);
  failsAt(`substring('a') = 'a'`, 1, /substring expects 2 to 3 arguments, found 1/);
  failsAt(`substring('a', 1, 2, 3) = 'a'`, 1, /substring expects 2 to 3 arguments, found 4/);
  failsAt(`concat('a') = 'a'`, 1, /concat expects at least 2 arguments, found 1/);
  failsAt('is_defined()', 1, /is_defined expects 1 argument/);
});

test('wrong argument types point at the argument', () => {
  failsAt(`abs('x') = 1`, 5, /argument 1 of abs must be a number, found a string/);
  failsAt(`abs(temp) = 1`, 5, /properties are strings: use as_number/);
  failsAt(`power(2, 'x') = 1`, 10, /argument 2 of power must be a number/);
  failsAt(`length(1) = 1`, 8, /argument 1 of length must be a string, found a number/);
  failsAt(`concat('a', 'b', 3) = 'ab3'`, 18, /argument 3 of concat must be a string/);
  failsAt(`substring('abc', '1') = 'bc'`, 18, /argument 2 of substring must be a number/);
  failsAt(`as_number(true) = 1`, 11, /argument 1 of as_number must be a string or a number, found a boolean/);
  failsAt(`contains('a', null)`, 15, /must be a string, found null/);
  failsAt(`abs(1) = 'x'`, 8, /cannot compare a number with a string/);
  failsAt(`starts_with('a', 'b') = 1`, 23, /cannot compare a boolean with a number/);
});

test('twin_change_includes is only allowed for twin change sources', () => {
  failsAt(
    'twin_change_includes(properties.reported.x)',
    1,
    /only allowed in routes FROM \/twinChangeNotifications/,
  );
  const allowed = { twinChangeIncludes: true };
  assert.doesNotThrow(() => compileCondition('TWIN_CHANGE_INCLUDES(properties.desired.x)', allowed));
  assert.throws(
    () => compileCondition('twin_change_includes(foo.bar)', allowed),
    /must start with properties.reported./,
  );
  assert.throws(
    () => compileCondition(`twin_change_includes('properties.reported.x')`, allowed),
    /expects one property path/,
  );
  assert.throws(() => compileCondition('twin_change_includes()', allowed), /expects one property path/);
  assert.throws(
    () => compileCondition('twin_change_includes(properties.reported.a, tags.b)', allowed),
    /expects one property path/,
  );
});

test('twin_change_includes is true when the patch holds the path', () => {
  const notification = (patch: unknown): HubMessage => ({
    body: Buffer.from(JSON.stringify(patch)),
    properties: {},
    systemProperties: { messageSchema: 'twinChangeNotification' },
    source: '/twinChangeNotifications',
  });
  const includes = (path: string, patch: unknown) =>
    compileCondition(`twin_change_includes(${path})`, { twinChangeIncludes: true }).evaluate(
      notification(patch),
    );
  const patch = {
    version: 3,
    properties: { reported: { temp: 21, deleted: null, nested: { a: 1 } } },
    tags: { site: 'x' },
  };
  assert.equal(includes('properties.reported.temp', patch), true);
  assert.equal(includes('properties.reported.deleted', patch), true, 'a deletion is a change');
  assert.equal(includes('properties.reported.nested', patch), true);
  assert.equal(includes('properties.reported.nested.a', patch), true);
  assert.equal(includes('Properties.Reported.temp', patch), false, 'keys are case-sensitive');
  assert.equal(includes('properties.reported.other', patch), false);
  assert.equal(includes('properties.desired.temp', patch), false);
  assert.equal(includes('tags.site', patch), true);
  const telemetry: HubMessage = { ...notification(patch), source: '/messages/modules/m1' };
  const condition = compileCondition('twin_change_includes(properties.reported.temp)', {
    twinChangeIncludes: true,
  });
  assert.equal(condition.evaluate(telemetry), undefined, 'only twin change notifications');
  assert.equal(condition.evaluate({ ...notification(patch), body: Buffer.from('not json') }), undefined);
});
