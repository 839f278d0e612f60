import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRoute } from '../../../src/runtime/routing/route.js';
import { DEFAULT_PRIORITY, RouteTable, type NamedRoute } from '../../../src/runtime/routing/route-table.js';
import type { HubMessage } from '../../../src/runtime/routing/message.js';

const telemetry = (
  temp: number,
  source: HubMessage['source'] = '/messages/modules/sensor/outputs/out',
): HubMessage => ({
  body: Buffer.from(JSON.stringify({ temp })),
  properties: {},
  systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8' },
  source,
});

const named = (name: string, text: string, priority = DEFAULT_PRIORITY, timeToLiveSecs = 0): NamedRoute => ({
  name,
  route: compileRoute(text),
  priority,
  timeToLiveSecs,
});

test('a message goes once per endpoint; the highest priority (lowest number) wins', () => {
  const table = new RouteTable(
    [
      named('all', 'FROM /messages/* INTO $upstream', 5, 60),
      named('hot', 'FROM /messages/* WHERE $body.temp > 30 INTO $upstream', 0, 600),
      named('toFilter', 'FROM /messages/modules/sensor/* INTO BrokeredEndpoint("/modules/filter/inputs/in")'),
      named('toFilterAgain', 'FROM /* INTO BrokeredEndpoint("/modules/filter/inputs/in")', 9),
      named('otherInput', 'FROM /* INTO BrokeredEndpoint("/modules/filter/inputs/in2")', 3),
    ],
    7200,
  );
  assert.deepEqual(table.evaluate(telemetry(35)), [
    {
      endpoint: { kind: 'upstream' },
      endpointId: '$upstream',
      priority: 0,
      timeToLiveSecs: 600,
      route: 'hot',
    },
    {
      endpoint: { kind: 'module-input', moduleId: 'filter', inputName: 'in' },
      endpointId: '/modules/filter/inputs/in',
      priority: 9,
      timeToLiveSecs: 7200,
      route: 'toFilterAgain',
    },
    {
      endpoint: { kind: 'module-input', moduleId: 'filter', inputName: 'in2' },
      endpointId: '/modules/filter/inputs/in2',
      priority: 3,
      timeToLiveSecs: 7200,
      route: 'otherInput',
    },
  ]);
  const cold = table.evaluate(telemetry(10));
  assert.deepEqual(
    cold.map(({ route, priority, timeToLiveSecs }) => [route, priority, timeToLiveSecs]),
    [
      ['all', 5, 60],
      ['toFilterAgain', 9, 7200],
      ['otherInput', 3, 7200],
    ],
  );
});

test('an explicit priority beats the default one; on a tie the first declared route wins', () => {
  const table = new RouteTable(
    [
      named('first', 'FROM /* INTO $upstream'),
      named('second', 'FROM /messages/* INTO $upstream'),
      named('third', 'FROM /messages/* INTO $UPSTREAM', 9),
      named('fourth', 'FROM /messages/* INTO $upstream', 9),
    ],
    100,
  );
  const [only, ...rest] = table.evaluate(telemetry(1));
  assert.equal(rest.length, 0);
  assert.equal(only!.route, 'third');
  const twin = telemetry(1, '/twinChangeNotifications');
  assert.deepEqual(
    table.evaluate(twin).map(({ route, priority }) => [route, priority]),
    [['first', DEFAULT_PRIORITY]],
  );
});

test('no matching route: the message is dropped (no deliveries)', () => {
  const table = new RouteTable([named('hot', 'FROM /messages/* WHERE $body.temp > 30 INTO $upstream')], 10);
  assert.deepEqual(table.evaluate(telemetry(1)), []);
  assert.deepEqual(new RouteTable([], 10).evaluate(telemetry(1)), []);
});

test('route TTL 0 inherits the global TTL, negative global TTL passes through (never expires)', () => {
  const table = new RouteTable([named('r', 'FROM /* INTO $upstream', 1, 0)], -1);
  assert.equal(table.evaluate(telemetry(1))[0]!.timeToLiveSecs, -1);
});

test('endpoints differ by module and input name exactly', () => {
  const table = new RouteTable(
    [
      named('a', 'FROM /* INTO BrokeredEndpoint("/modules/M/inputs/i")'),
      named('b', 'FROM /* INTO BrokeredEndpoint("/modules/m/inputs/i")'),
    ],
    1,
  );
  assert.equal(table.evaluate(telemetry(1)).length, 2);
});
