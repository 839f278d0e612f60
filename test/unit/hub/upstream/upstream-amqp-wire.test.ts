import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  audienceIdentity,
  impliedAuthChain,
  parsePutToken,
} from '../../../../src/runtime/hub/amqp-head/cbs.js';
import { buildSasToken } from '../../../../src/runtime/identity/sas.js';
import { parseLinkAddress } from '../../../../src/runtime/hub/amqp-head/addresses.js';
import {
  amqpLinkAddress,
  cbsAudience,
  linkAuthChainProperties,
  putTokenProperties,
} from '../../../../src/runtime/hub/upstream/amqp-wire.js';
import { renewalDelayMs } from '../../../../src/runtime/hub/upstream/token-renewal.js';
import { portOr, transportPlan } from '../../../../src/runtime/hub/upstream/upstream-transport.js';

const ports = { mqtt: 18883, amqp: 15671, https: 10443 };

test('each UpstreamProtocol maps to the endpoints IoT Edge tries, Amqp falling back to WebSockets', () => {
  assert.deepEqual(transportPlan(undefined, ports), [{ kind: 'mqtt', port: 18883 }]);
  assert.deepEqual(transportPlan('Mqtt', ports), [{ kind: 'mqtt', port: 18883 }]);
  assert.deepEqual(transportPlan('MqttWs', ports), [{ kind: 'mqtt-ws', port: 10443 }]);
  assert.deepEqual(transportPlan('AmqpWs', ports), [{ kind: 'amqp-ws', port: 10443 }]);
  assert.deepEqual(transportPlan('Amqp', ports), [
    { kind: 'amqp', port: 15671 },
    { kind: 'amqp-ws', port: 10443 },
  ]);
});

test('a port from the environment is used only when it is a port', () => {
  assert.equal(portOr('15671', 5671), 15671);
  for (const bad of [undefined, '', ' ', '0', '65536', '12.5', 'abc']) assert.equal(portOr(bad, 5671), 5671);
});

test("link addresses and audiences name the identity, encoded, and the parent's head reads them back", () => {
  const leaf = { deviceId: 'leaf 1' };
  const module = { deviceId: 'child-1', moduleId: 'sensor' };
  assert.equal(amqpLinkAddress(leaf, 'events'), '/devices/leaf%201/messages/events');
  assert.equal(amqpLinkAddress(leaf, 'devicebound'), '/devices/leaf%201/messages/devicebound');
  assert.equal(amqpLinkAddress(module, 'twin'), '/devices/child-1/modules/sensor/twin');
  assert.equal(amqpLinkAddress(module, 'methods'), '/devices/child-1/modules/sensor/methods/devicebound');
  assert.deepEqual(parseLinkAddress(amqpLinkAddress(leaf, 'events')), { kind: 'events', deviceId: 'leaf 1' });
  assert.deepEqual(parseLinkAddress(amqpLinkAddress(module, 'methods')), {
    kind: 'methods',
    deviceId: 'child-1',
    moduleId: 'sensor',
  });
  assert.equal(cbsAudience('hub.example.net', module), 'hub.example.net/devices/child-1/modules/sensor');
  assert.deepEqual(
    audienceIdentity(cbsAudience('hub.example.net', { deviceId: 'child-1', moduleId: '$edgeHub' })),
    {
      deviceId: 'child-1',
      moduleId: '$edgeHub',
    },
  );
});

test("a put-token on behalf of an identity carries the auth-chain; the hub's own carries none", () => {
  const own = putTokenProperties('hub.example.net', { deviceId: 'child-1', moduleId: '$edgeHub' }, 'child-1');
  assert.equal(own['auth-chain'], undefined);
  const leaf = putTokenProperties('hub.example.net', { deviceId: 'leaf-7' }, 'child-1');
  assert.equal(leaf['auth-chain'], 'leaf-7;child-1');
  assert.deepEqual(parsePutToken(leaf, 'SharedAccessSignature sr=x'), {
    ok: true,
    deviceId: 'leaf-7',
    token: 'SharedAccessSignature sr=x',
    authChain: 'leaf-7;child-1',
  });
  assert.deepEqual(parsePutToken({ ...leaf, 'auth-chain': 5 }, 'token'), {
    ok: false,
    status: 400,
    reason: 'auth-chain must be a string',
  });
});

test("each link of an identity acted for names the auth-chain as IoT Edge reads it; the hub's own links none", () => {
  assert.deepEqual(linkAuthChainProperties({ deviceId: 'leaf-7' }, 'child-1'), {
    'com.microsoft:auth-chain': 'leaf-7;child-1',
  });
  assert.deepEqual(linkAuthChainProperties({ deviceId: 'child-1', moduleId: 'sensor' }, 'child-1'), {
    'com.microsoft:auth-chain': 'child-1/sensor;child-1',
  });
  assert.deepEqual(linkAuthChainProperties({ deviceId: 'child-1', moduleId: '$edgeHub' }, 'child-1'), {});
});

const KEY = Buffer.alloc(32, 7).toString('base64');
const signedFor = (audience: string) =>
  buildSasToken({ audience, key: KEY, expiry: Math.trunc(Date.now() / 1000) + 3600 });

test("IoT Edge's put-token (IoT Hub's token type, no auth-chain, the acting $edgeHub's token) reads as on behalf of", () => {
  const edgeHubToken = signedFor('hub.example.net/devices/child-1/modules/$edgeHub');
  const properties = {
    operation: 'put-token',
    type: 'azure-devices.net:sastoken',
    name: 'hub.example.net/devices/leaf-7',
  };
  assert.deepEqual(parsePutToken(properties, edgeHubToken), {
    ok: true,
    deviceId: 'leaf-7',
    token: edgeHubToken,
    authChain: 'leaf-7;child-1',
  });
  // the type is compared without regard to case; another type is still refused
  assert.equal(parsePutToken({ ...properties, type: 'Azure-Devices.net:SasToken' }, edgeHubToken).ok, true);
  assert.deepEqual(parsePutToken({ ...properties, type: 'jwt' }, edgeHubToken), {
    ok: false,
    status: 400,
    reason: 'unsupported token type "jwt"',
  });
  // an explicit auth-chain (this runtime's children) wins over the one the token implies
  assert.equal(
    (
      parsePutToken({ ...properties, 'auth-chain': 'leaf-7;mid;child-1' }, edgeHubToken) as {
        authChain?: string;
      }
    ).authChain,
    'leaf-7;mid;child-1',
  );
});

test("a token implies a chain only when it is the acting edge device's $edgeHub token, put for another identity", () => {
  const edgeHubToken = signedFor('hub.example.net/devices/child-1/modules/$edgeHub');
  assert.equal(
    impliedAuthChain({ deviceId: 'child-1', moduleId: 'sensor' }, edgeHubToken),
    'child-1/sensor;child-1',
  );
  assert.equal(impliedAuthChain({ deviceId: 'leaf-7' }, edgeHubToken), 'leaf-7;child-1');
  // encoded as IoT Edge's token provider writes the audience
  assert.equal(
    impliedAuthChain({ deviceId: 'leaf-7' }, signedFor('hub.example.net/devices/child-1/modules/%24edgeHub')),
    'leaf-7;child-1',
  );
  assert.equal(impliedAuthChain({ deviceId: 'child-1', moduleId: '$edgeHub' }, edgeHubToken), undefined);
  assert.equal(
    impliedAuthChain({ deviceId: 'leaf-7' }, signedFor('hub.example.net/devices/leaf-7')),
    undefined,
  );
  assert.equal(
    impliedAuthChain({ deviceId: 'leaf-7' }, signedFor('hub.example.net/devices/child-1/modules/sensor')),
    undefined,
  );
  assert.equal(impliedAuthChain({ deviceId: 'leaf-7' }, 'not a token'), undefined);
});

test('a token is put again with a quarter of its lifetime left, never sooner than a second', () => {
  const issued = 1_000_000_000_000;
  const expiry = issued / 1000 + 3600;
  assert.equal(renewalDelayMs(issued, expiry, issued), 2700_000);
  assert.equal(renewalDelayMs(issued, expiry, issued + 2000_000), 700_000);
  assert.equal(renewalDelayMs(issued, expiry, issued + 3000_000), 1000);
  assert.equal(renewalDelayMs(issued, issued / 1000 + 8, issued), 6000);
});
