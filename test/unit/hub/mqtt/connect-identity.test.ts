import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseConnectIdentity,
  type ConnectRefusal,
} from '../../../../src/runtime/hub/mqtt/connect-identity.js';

const UA = 'azure-iot-device%2F1.18.4%20(node%20v20.20.2%3B%20Debian%2012%3B%20x64)';

function refusal(clientId: string, username: string | undefined): ConnectRefusal | undefined {
  const result = parseConnectIdentity(clientId, username);
  return result.ok ? undefined : result.reason;
}

test('the module username the Node SDK sends', () => {
  const result = parseConnectIdentity(
    'dev1/mod1',
    `testhub.azure-devices.net/dev1/mod1/?api-version=2021-04-12&DeviceClientType=${UA}`,
  );
  assert.deepEqual(result, {
    ok: true,
    identity: {
      deviceId: 'dev1',
      moduleId: 'mod1',
      apiVersion: '2021-04-12',
      productInfo: 'azure-iot-device/1.18.4 (node v20.20.2; Debian 12; x64)',
    },
  });
});

test('the device username with a model id, which the SDK does not encode', () => {
  const result = parseConnectIdentity(
    'dev2',
    `testhub.azure-devices.net/dev2/?api-version=2021-04-12&model-id=dtmi:probe:thing;1&DeviceClientType=${UA}`,
  );
  assert.ok(result.ok);
  assert.equal(result.identity.deviceId, 'dev2');
  assert.equal(result.identity.moduleId, undefined);
  assert.equal(result.identity.modelId, 'dtmi:probe:thing;1');
});

test('without `?` when the last segment holds api-version', () => {
  const device = parseConnectIdentity('d', 'hub/d/api-version=2018-06-30&DeviceClientType=x');
  assert.deepEqual(device, {
    ok: true,
    identity: { deviceId: 'd', apiVersion: '2018-06-30', productInfo: 'x' },
  });
  const module = parseConnectIdentity('d/m', 'hub/d/m/DeviceClientType=x&api-version=1');
  assert.ok(module.ok);
  assert.equal(module.identity.moduleId, 'm');
  assert.equal(refusal('d', 'hub/d/DeviceClientType=x'), 'malformed-username');
});

test('the host segment is not checked, other parameters are ignored, the first of a repeat wins', () => {
  const result = parseConnectIdentity('d', '/d/?x=1&api-version=v1&api-version=v2&auth-chain=leaf%3Bedge');
  assert.deepEqual(result, {
    ok: true,
    identity: { deviceId: 'd', apiVersion: 'v1', authChain: 'leaf;edge' },
  });
});

test("IoT Edge's child hub: the C# SDK's username, its auth-chain escaped as Uri.EscapeDataString writes it", () => {
  const username =
    'hub.example.net/grand/sensor/?api-version=2020-06-30-preview&DeviceClientType=' +
    'Microsoft.Azure.Devices.Client%2F1.42.0&auth-chain=grand%2Fsensor%3Bgrand%3Bchild-3%3Bchild-1';
  assert.deepEqual(parseConnectIdentity('grand/sensor', username), {
    ok: true,
    identity: {
      deviceId: 'grand',
      moduleId: 'sensor',
      apiVersion: '2020-06-30-preview',
      productInfo: 'Microsoft.Azure.Devices.Client/1.42.0',
      authChain: 'grand/sensor;grand;child-3;child-1',
    },
  });
});

test('api-version is mandatory and must not be blank', () => {
  assert.equal(refusal('d', 'hub/d/?DeviceClientType=x'), 'missing-api-version');
  assert.equal(refusal('d', 'hub/d/?api-version='), 'missing-api-version');
  assert.equal(refusal('d', 'hub/d/?api-version=%20'), 'missing-api-version');
  assert.equal(refusal('d', 'hub/d/?'), 'missing-api-version');
  assert.equal(refusal('d', 'hub/d/?API-VERSION=1'), 'missing-api-version');
});

test('malformed usernames', () => {
  assert.equal(refusal('d', undefined), 'missing-username');
  assert.equal(refusal('d', ''), 'missing-username');
  // the example in edgeHub's own docs, rejected by edgeHub itself
  assert.equal(refusal('TestDevice', 'host/TestDevice?api-version=2018-06-30'), 'malformed-username');
  assert.equal(refusal('d', 'hub/?api-version=1'), 'malformed-username');
  assert.equal(refusal('d/m', 'hub/d/m/x/?api-version=1'), 'malformed-username');
  assert.equal(refusal('d', 'hub/d/'), 'malformed-username');
  assert.equal(refusal('d', 'hub//?api-version=1'), 'missing-device-id');
});

test('the client id must equal the identity exactly, case included', () => {
  assert.equal(refusal('dev1/m', 'hub/dev1/?api-version=1'), 'client-id-mismatch');
  assert.equal(refusal('dev1', 'hub/dev1/m/?api-version=1'), 'client-id-mismatch');
  assert.equal(refusal('Dev1', 'hub/dev1/?api-version=1'), 'client-id-mismatch');
  assert.equal(refusal('dev1/m2', 'hub/dev1/m/?api-version=1'), 'client-id-mismatch');
  assert.equal(refusal('', 'hub/dev1/?api-version=1'), 'client-id-mismatch');
  const result = parseConnectIdentity('other', 'hub/dev1/?api-version=1');
  assert.ok(!result.ok);
  assert.match(result.message, /other.*dev1/);
});

test('an empty module segment means a device identity, as in edgeHub', () => {
  const result = parseConnectIdentity('d', 'hub/d//?api-version=1');
  assert.deepEqual(result, { ok: true, identity: { deviceId: 'd', apiVersion: '1' } });
});

test('a malformed escape in a parameter value is kept, not fatal', () => {
  const result = parseConnectIdentity('d', 'hub/d/?api-version=1&DeviceClientType=100%');
  assert.ok(result.ok);
  assert.equal(result.identity.productInfo, '100%');
});
