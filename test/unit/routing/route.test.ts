import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRoute, endpointId } from '../../../src/runtime/routing/route.js';
import { describeRouteError, RouteError } from '../../../src/runtime/routing/errors.js';
import type { HubMessage } from '../../../src/runtime/routing/message.js';

function message(fields: Partial<HubMessage> = {}): HubMessage {
  return {
    body: Buffer.from('{"temp": 40}'),
    properties: { alert: 'yes' },
    systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8', connectionModuleId: 'm1' },
    source: '/messages/modules/m1/outputs/out1',
    ...fields,
  };
}

function failsAt(route: string, position: number | undefined, problem: RegExp): void {
  assert.throws(
    () => compileRoute(route),
    (error: unknown) => {
      assert.ok(error instanceof RouteError, `RouteError for ${route}`);
      assert.equal(error.position, position, `position of "${error.problem}" in ${route}`);
      assert.match(error.problem, problem);
      return true;
    },
  );
}

test('the four shapes of a route statement', () => {
  const upstream = { kind: 'upstream' };
  for (const text of [
    'FROM /messages/* INTO $upstream',
    'SELECT * FROM /messages/* INTO $upstream',
    'FROM /messages/* WHERE true INTO $upstream',
    'SELECT * FROM /messages/* WHERE true INTO $upstream',
  ]) {
    const route = compileRoute(text);
    assert.deepEqual(route.sink, upstream, text);
    assert.equal(route.source.text, '/messages/*');
    assert.equal(route.matches(message()), true, text);
  }
});

test('keywords in any case, any whitespace, comments between clauses', () => {
  const route = compileRoute(
    '  select\t*\nfrom /messages/modules/m1/*\r\n  where /* hot */ $body.temp > 30 aNd alert = "yes"   InTo   $UPSTREAM  ',
  );
  assert.deepEqual(route.sink, { kind: 'upstream' });
  assert.equal(route.condition, '/* hot */ $body.temp > 30 aNd alert = "yes"');
  assert.equal(route.matches(message()), true);
  assert.equal(route.matches(message({ properties: { alert: 'no' } })), false);
  assert.equal(compileRoute('/* first */ SELECT*FROM /messages INTO $upstream').source.text, '/messages');
  const quoted = compileRoute(
    `FROM /messages/* WHERE alert != 'into' AND alert != "FROM x WHERE" INTO $upstream`,
  );
  assert.equal(quoted.matches(message()), true, 'keywords inside strings are text');
});

test('a route without WHERE has no condition and matches on source only', () => {
  const route = compileRoute('FROM /messages/modules/m2/* INTO $upstream');
  assert.equal(route.condition, undefined);
  assert.equal(route.matches(message()), false);
  assert.equal(route.matches(message({ source: '/messages/modules/m2' })), true);
});

test('BrokeredEndpoint: any case, either quotes, optional outer slashes', () => {
  const expected = { kind: 'module-input', moduleId: 'filter', inputName: 'input1' };
  for (const sink of [
    'BrokeredEndpoint("/modules/filter/inputs/input1")',
    "brokeredendpoint('/modules/filter/inputs/input1')",
    'BROKEREDENDPOINT ( "modules/filter/inputs/input1/" )',
    'BrokeredEndpoint("/Modules/filter/INPUTS/input1/")',
  ]) {
    assert.deepEqual(compileRoute(`FROM /messages/* INTO ${sink}`).sink, expected, sink);
  }
  const route = compileRoute('FROM /* INTO BrokeredEndpoint("/modules/Filter-1/inputs/in.put")');
  assert.deepEqual(route.sink, { kind: 'module-input', moduleId: 'Filter-1', inputName: 'in.put' });
  assert.equal(endpointId(route.sink), '/modules/Filter-1/inputs/in.put');
  assert.equal(endpointId({ kind: 'upstream' }), '$upstream');
});

test('sink errors', () => {
  failsAt(
    'FROM /messages/* INTO $foo',
    23,
    /unknown endpoint '\$foo': expected \$upstream or BrokeredEndpoint/,
  );
  failsAt('FROM /messages/* INTO $upstream2', 23, /unknown endpoint/);
  failsAt('FROM /messages/* INTO upstream', 23, /expected \$upstream or BrokeredEndpoint.*found 'upstream'/);
  failsAt('FROM /messages/* INTO', 22, /expected \$upstream.*found end of text/);
  failsAt(
    'FROM /messages/* INTO Endpoint("/modules/a/inputs/b")',
    23,
    /expected \$upstream or BrokeredEndpoint/,
  );
  failsAt('FROM /messages/* INTO BrokeredEndpoint("/modules/a/inputs")', 40, /invalid endpoint address/);
  failsAt('FROM /messages/* INTO BrokeredEndpoint("/modules/a/inputs/b/c")', 40, /invalid endpoint address/);
  failsAt('FROM /messages/* INTO BrokeredEndpoint("/devices/a/inputs/b")', 40, /invalid endpoint address/);
  failsAt('FROM /messages/* INTO BrokeredEndpoint("/modules/a/outputs/b")', 40, /invalid endpoint address/);
  failsAt('FROM /messages/* INTO BrokeredEndpoint("/modules//inputs/b")', 40, /invalid endpoint address/);
  failsAt('FROM /messages/* INTO BrokeredEndpoint(/modules/a/inputs/b)', 40, /expected a quoted address/);
  failsAt(
    'FROM /messages/* INTO BrokeredEndpoint "/modules/a/inputs/b"',
    40,
    /expected '\(' after BrokeredEndpoint/,
  );
  failsAt(
    'FROM /messages/* INTO BrokeredEndpoint("/modules/a/inputs/b"',
    61,
    /expected '\)' after the address/,
  );
  failsAt('FROM /messages/* INTO $upstream WHERE true', 33, /unexpected WHERE after the endpoint/);
  failsAt('FROM /messages/* INTO $upstream $upstream', 33, /unexpected '\$upstream' after the endpoint/);
});

test('statement errors', () => {
  failsAt('', undefined, /the route is empty/);
  failsAt('   ', undefined, /the route is empty/);
  failsAt('SELECT FROM /messages INTO $upstream', 8, /expected '\*' after SELECT/);
  failsAt('SELECT a FROM /messages INTO $upstream', 8, /only SELECT \* is supported/);
  failsAt('/messages INTO $upstream', 1, /expected FROM/);
  failsAt('FROMAGE /messages INTO $upstream', 1, /expected FROM/);
  failsAt('FROM', 5, /expected a source after FROM/);
  failsAt('FROM messages INTO $upstream', 6, /the source must start with '\/'/);
  failsAt('FROM /messages WHERE INTO $upstream', 22, /expected a condition after WHERE/);
  failsAt('FROM /messages WHERE', 21, /expected a condition after WHERE/);
  failsAt('FROM /messages $upstream', 16, /expected WHERE or INTO, found '\$upstream'/);
  failsAt('FROM /messages WHERE true', 26, /expected INTO, found end of text/);
  failsAt('FROM /messages WHERE true false INTO $upstream', 27, /expected INTO, found 'false'/);
  failsAt('FROM /messages WHERE (true INTO $upstream', 28, /expected '\)' to close the '\(' at position 22/);
});

test('condition errors carry their column in the whole route text', () => {
  failsAt('FROM /messages/* WHERE foo(1) INTO $upstream', 24, /unknown function 'foo'/);
  failsAt('FROM /messages/* WHERE temp > 30 INTO $upstream', 29, /cannot compare a string with a number/);
  failsAt(
    'SELECT * FROM /messages/* WHERE abs("x") = 1 INTO $upstream',
    37,
    /argument 1 of abs must be a number/,
  );
  failsAt(`FROM /messages/* WHERE a = 'x INTO $upstream`, 28, /unterminated string/);
});

test('twin_change_includes compiles only for sources that receive twin change notifications', () => {
  const condition = 'twin_change_includes(properties.reported.temp)';
  for (const source of [
    '/twinChangeNotifications',
    '/TWINCHANGENOTIFICATIONS',
    '/*',
    '/twinChangeNotifications/*',
  ]) {
    assert.doesNotThrow(() => compileRoute(`FROM ${source} WHERE ${condition} INTO $upstream`), source);
  }
  failsAt(
    `FROM /messages/* WHERE ${condition} INTO $upstream`,
    24,
    /only allowed in routes FROM \/twinChangeNotifications/,
  );
  const route = compileRoute(`FROM /* WHERE ${condition} INTO $upstream`);
  const notification = message({
    source: '/twinChangeNotifications',
    body: Buffer.from('{"properties":{"reported":{"temp":1}}}'),
  });
  assert.equal(route.matches(notification), true);
  assert.equal(route.matches(message()), false);
});

test('describeRouteError shows the route with a caret under the position', () => {
  const text = 'FROM /messages/* WHERE foo(1) INTO $upstream';
  try {
    compileRoute(text);
    assert.fail('expected an error');
  } catch (error) {
    assert.ok(error instanceof RouteError);
    assert.equal(
      describeRouteError(error, 'routes.r1'),
      [
        "routes.r1: position 24: unknown function 'foo'",
        '  FROM /messages/* WHERE foo(1) INTO $upstream',
        '                         ^',
      ].join('\n'),
    );
    assert.equal(error.message, "position 24: unknown function 'foo'");
  }
  const multiline = new RouteError('bad', 8, 'FROM /x\nWHERE ? INTO $upstream');
  assert.equal(describeRouteError(multiline), 'position 8: bad\n  FROM /x\n         ^');
  const second = new RouteError('bad', 15, 'FROM /x\nWHERE ? INTO $upstream');
  assert.equal(describeRouteError(second), 'position 15: bad\n  WHERE ? INTO $upstream\n        ^');
  assert.equal(describeRouteError(new RouteError('the route is empty')), 'the route is empty');
});
