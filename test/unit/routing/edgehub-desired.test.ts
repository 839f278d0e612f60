import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseEdgeHubDesired,
  routeTableOf,
  storeLimitsOf,
} from '../../../src/runtime/deployment/edgehub-desired.js';
import { DeploymentError } from '../../../src/runtime/deployment/deployment-error.js';
import { DEFAULT_PRIORITY } from '../../../src/runtime/routing/route-table.js';
import type { HubMessage } from '../../../src/runtime/routing/message.js';

const STORE = { storeAndForwardConfiguration: { timeToLiveSecs: 7200 } };
const P = '$edgeHub.properties.desired';

function rejects(desired: unknown, path: string, problem: RegExp): void {
  assert.throws(
    () => parseEdgeHubDesired(desired),
    (error: unknown) => {
      assert.ok(error instanceof DeploymentError, String(error));
      assert.equal(error.code, 400);
      assert.equal(error.path, path);
      assert.ok(error.message.startsWith(`${path}: `), error.message);
      assert.match(error.message, problem);
      return true;
    },
  );
}

test('string and object routes, mixed, in declaration order', () => {
  const desired = parseEdgeHubDesired({
    schemaVersion: '1.1',
    routes: {
      toCloud: 'FROM /messages/* INTO $upstream',
      hot: {
        route: 'FROM /messages/* WHERE $body.temp > 30 INTO $upstream',
        priority: 0,
        timeToLiveSecs: 60,
      },
      toFilter: {
        route: 'FROM /messages/modules/sensor/* INTO BrokeredEndpoint("/modules/filter/inputs/in")',
      },
    },
    storeAndForwardConfiguration: { timeToLiveSecs: 3600, storeLimits: { maxSizeBytes: 1048576 } },
    $version: 4,
  });
  assert.equal(desired.schemaVersion, '1.1');
  assert.deepEqual(desired.storeAndForward, { timeToLiveSecs: 3600, maxSizeBytes: 1048576 });
  assert.deepEqual(
    desired.routes.map(({ name, priority, timeToLiveSecs, route }) => [
      name,
      priority,
      timeToLiveSecs,
      route.sink.kind,
    ]),
    [
      ['toCloud', DEFAULT_PRIORITY, 0, 'upstream'],
      ['hot', 0, 60, 'upstream'],
      ['toFilter', DEFAULT_PRIORITY, 0, 'module-input'],
    ],
  );
  const message: HubMessage = {
    body: Buffer.from('{"temp": 40}'),
    properties: {},
    systemProperties: { contentType: 'application/json', contentEncoding: 'utf-8' },
    source: '/messages/modules/sensor',
  };
  assert.deepEqual(
    routeTableOf(desired)
      .evaluate(message)
      .map(({ route, timeToLiveSecs }) => [route, timeToLiveSecs]),
    [
      ['hot', 60],
      ['toFilter', 3600],
    ],
  );
});

test('schema versions 1.0 to 1.3 are accepted', () => {
  for (const schemaVersion of ['1.0', '1.1', '1.2', '1.3', '1.1.0', ' 1.2 ']) {
    assert.doesNotThrow(() => parseEdgeHubDesired({ schemaVersion, routes: {}, ...STORE }), schemaVersion);
  }
});

test('other schema versions are 400 (edgeHub never answers 412)', () => {
  for (const schemaVersion of ['2.0', '1.4', '0.9', 'one', '1']) {
    rejects({ schemaVersion, routes: {}, ...STORE }, `${P}.schemaVersion`, /unsupported version/);
  }
  rejects({ routes: {}, ...STORE }, `${P}.schemaVersion`, /missing/);
  rejects(
    { schemaVersion: 1.1, routes: {}, ...STORE },
    `${P}.schemaVersion`,
    /expected a string, found a number/,
  );
});

test('schema 1.0: routes optional, only strings', () => {
  assert.deepEqual(parseEdgeHubDesired({ schemaVersion: '1.0', ...STORE }).routes, []);
  rejects(
    { schemaVersion: '1.0', routes: { r1: { route: 'FROM /* INTO $upstream' } }, ...STORE },
    `${P}.routes.r1`,
    /needs schemaVersion 1.1 or later/,
  );
  rejects({ schemaVersion: '1.1', ...STORE }, `${P}.routes`, /missing/);
});

test('an invalid route names the route and the column', () => {
  rejects(
    { schemaVersion: '1.0', routes: { r1: 'FROM /messages/* WHERE foo(1) INTO $upstream' }, ...STORE },
    `${P}.routes.r1`,
    /^\$edgeHub\.properties\.desired\.routes\.r1: position 24: unknown function 'foo'$/,
  );
  rejects(
    {
      schemaVersion: '1.1',
      routes: { ok: 'FROM /* INTO $upstream', bad: { route: 'FROM /* WHERE temp > 30 INTO $upstream' } },
      ...STORE,
    },
    `${P}.routes.bad`,
    /position 20: operator '>' cannot compare a string with a number/,
  );
  rejects(
    { schemaVersion: '1.1', routes: { r: 'FROM /* INTO $nowhere' }, ...STORE },
    `${P}.routes.r`,
    /unknown endpoint/,
  );
  rejects({ schemaVersion: '1.1', routes: { r: '' }, ...STORE }, `${P}.routes.r`, /the route is empty/);
});

test('the path prefix can be chosen by the caller', () => {
  assert.throws(
    () => parseEdgeHubDesired({ schemaVersion: '1.1', routes: { r: 'FROM' }, ...STORE }, 'desired'),
    /^DeploymentError: desired\.routes\.r: position 5: expected a source/,
  );
});

test('route values and fields are type-checked', () => {
  const v11 = (routes: unknown) => ({ schemaVersion: '1.1', routes, ...STORE });
  rejects(
    v11({ r: 5 }),
    `${P}.routes.r`,
    /expected a route string or \{route, priority, timeToLiveSecs\}, found an integer/,
  );
  rejects(v11({ r: null }), `${P}.routes.r`, /found null/);
  rejects(v11({ r: ['FROM /* INTO $upstream'] }), `${P}.routes.r`, /found an array/);
  rejects(v11({ r: { priority: 1 } }), `${P}.routes.r.route`, /missing/);
  rejects(v11({ r: { route: 1 } }), `${P}.routes.r.route`, /expected a string/);
  rejects(v11([]), `${P}.routes`, /expected an object/);
});

test('priority 0..9 and route TTL 0..4294967295', () => {
  const route = (fields: object) => ({
    schemaVersion: '1.2',
    routes: { r: { route: 'FROM /* INTO $upstream', ...fields } },
    ...STORE,
  });
  for (const priority of [0, 9])
    assert.equal(parseEdgeHubDesired(route({ priority })).routes[0]!.priority, priority);
  rejects(route({ priority: 10 }), `${P}.routes.r.priority`, /10 is out of range 0..9/);
  rejects(route({ priority: -1 }), `${P}.routes.r.priority`, /out of range/);
  rejects(route({ priority: 1.5 }), `${P}.routes.r.priority`, /expected an integer/);
  rejects(route({ priority: '1' }), `${P}.routes.r.priority`, /expected an integer/);
  assert.equal(
    parseEdgeHubDesired(route({ timeToLiveSecs: 4294967295 })).routes[0]!.timeToLiveSecs,
    4294967295,
  );
  rejects(route({ timeToLiveSecs: 4294967296 }), `${P}.routes.r.timeToLiveSecs`, /out of range/);
  rejects(route({ timeToLiveSecs: -5 }), `${P}.routes.r.timeToLiveSecs`, /out of range/);
});

test('route names must be twin keys', () => {
  for (const name of ['a.b', '$r', 'r#1', 'my route', '', '  ']) {
    rejects(
      { schemaVersion: '1.1', routes: { [name]: 'FROM /* INTO $upstream' }, ...STORE },
      `${P}.routes`,
      /invalid route name/,
    );
  }
  const ok = parseEdgeHubDesired({
    schemaVersion: '1.1',
    routes: { 'route-1_ok': 'FROM /* INTO $upstream', Route2: 'FROM /* INTO $upstream' },
    ...STORE,
  });
  assert.deepEqual(
    ok.routes.map(({ name }) => name),
    ['route-1_ok', 'Route2'],
  );
});

test('storeAndForwardConfiguration.timeToLiveSecs is required; negative means forever', () => {
  rejects({ schemaVersion: '1.1', routes: {} }, `${P}.storeAndForwardConfiguration`, /missing/);
  rejects(
    { schemaVersion: '1.1', routes: {}, storeAndForwardConfiguration: {} },
    `${P}.storeAndForwardConfiguration.timeToLiveSecs`,
    /missing/,
  );
  rejects(
    { schemaVersion: '1.1', routes: {}, storeAndForwardConfiguration: { timeToLiveSecs: '7200' } },
    `${P}.storeAndForwardConfiguration.timeToLiveSecs`,
    /expected an integer/,
  );
  const forever = parseEdgeHubDesired({
    schemaVersion: '1.1',
    routes: {},
    storeAndForwardConfiguration: { timeToLiveSecs: -1 },
  });
  assert.deepEqual(forever.storeAndForward, { timeToLiveSecs: -1 });
  rejects(
    {
      schemaVersion: '1.1',
      routes: {},
      storeAndForwardConfiguration: { timeToLiveSecs: 1, storeLimits: { maxSizeBytes: 0 } },
    },
    `${P}.storeAndForwardConfiguration.storeLimits.maxSizeBytes`,
    /out of range/,
  );
});

test('storeLimits.fullPolicy: refuse or dropOldest (any case), only with maxSizeBytes; refuse by default', () => {
  const withLimits = (storeLimits: unknown) => ({
    schemaVersion: '1.1',
    routes: {},
    storeAndForwardConfiguration: { timeToLiveSecs: 60, storeLimits },
  });
  const path = `${P}.storeAndForwardConfiguration.storeLimits.fullPolicy`;
  const drop = parseEdgeHubDesired(withLimits({ maxSizeBytes: 1000, fullPolicy: 'DROPOLDEST' }));
  assert.deepEqual(storeLimitsOf(drop), { maxSizeBytes: 1000, fullPolicy: 'dropOldest' });
  assert.deepEqual(storeLimitsOf(parseEdgeHubDesired(withLimits({ maxSizeBytes: 1000 }))), {
    maxSizeBytes: 1000,
    fullPolicy: 'refuse',
  });
  assert.deepEqual(storeLimitsOf(parseEdgeHubDesired({ schemaVersion: '1.1', routes: {}, ...STORE })), {
    fullPolicy: 'refuse',
  });
  rejects(
    withLimits({ maxSizeBytes: 1000, fullPolicy: 'sometimes' }),
    path,
    /unknown value "sometimes", expected one of refuse, dropOldest/,
  );
  rejects(withLimits({ maxSizeBytes: 1000, fullPolicy: 1 }), path, /expected a string/);
  rejects(withLimits({ fullPolicy: 'refuse' }), path, /applies only with maxSizeBytes, which is missing/);
});

test('not an object', () => {
  rejects(null, P, /expected an object, found null/);
  rejects('routes', P, /expected an object, found a string/);
});

test('mqttBroker (1.2+) is accepted and ignored', () => {
  assert.doesNotThrow(() =>
    parseEdgeHubDesired({
      schemaVersion: '1.2',
      routes: {},
      ...STORE,
      mqttBroker: { bridges: [], authorizations: [] },
    }),
  );
});
