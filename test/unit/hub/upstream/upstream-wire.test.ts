import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { parseConnectIdentity } from '../../../../src/runtime/hub/mqtt/connect-identity.js';
import { classifyPublish } from '../../../../src/runtime/hub/mqtt/topics.js';
import { reconnectDelayMs } from '../../../../src/runtime/hub/upstream/backoff.js';
import {
  formatAddress,
  upstreamAddress,
  UpstreamAddressError,
} from '../../../../src/runtime/hub/upstream/upstream-address.js';
import {
  authChainFor,
  edgeHubAudience,
  messageOrigin,
  upstreamTopic,
  upstreamUsername,
} from '../../../../src/runtime/hub/upstream/upstream-wire.js';
import type { HubMessage } from '../../../../src/runtime/routing/message.js';

const moduleMessage: HubMessage = {
  body: Buffer.from('{"seq":1}'),
  properties: { seq: '1', 'a b': 'x&y' },
  systemProperties: {
    messageId: 'm-1',
    correlationId: 'c-1',
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    outputName: 'out1',
    connectionDeviceId: 'child-1',
    connectionModuleId: 'sensor',
    enqueuedTime: '2024-06-01T12:00:00.000Z',
  },
  source: '/messages/modules/sensor/outputs/out1',
};

describe('the upstream wire', () => {
  test('a message goes up as its origin; one without an origin as the hub itself', () => {
    assert.deepEqual(messageOrigin(moduleMessage, 'child-1'), { deviceId: 'child-1', moduleId: 'sensor' });
    const leaf = { ...moduleMessage, systemProperties: { connectionDeviceId: 'leaf-a' } };
    assert.deepEqual(messageOrigin(leaf, 'child-1'), { deviceId: 'leaf-a' });
    const none = { ...moduleMessage, systemProperties: {} };
    assert.deepEqual(messageOrigin(none, 'child-1'), { deviceId: 'child-1', moduleId: '$edgeHub' });
  });

  test("the username carries the auth-chain (target; this edge device), and the parent's parser reads it back", () => {
    const username = upstreamUsername({
      iothubHostname: 'hub.example.net',
      target: { deviceId: 'child-1', moduleId: 'sensor' },
      edgeDeviceId: 'child-1',
      productInfo: 'iotedge-ts/1.0.0',
    });
    assert.equal(
      username,
      'hub.example.net/child-1/sensor/?api-version=2018-06-30&DeviceClientType=iotedge-ts%2F1.0.0&auth-chain=child-1%2Fsensor%3Bchild-1',
    );
    const parsed = parseConnectIdentity('child-1/sensor', username);
    assert.ok(parsed.ok);
    assert.equal(parsed.identity.authChain, 'child-1/sensor;child-1');
    assert.equal(parsed.identity.productInfo, 'iotedge-ts/1.0.0');
  });

  test("the hub's own connection has no auth-chain; its token's audience is its $edgeHub module", () => {
    const self = { deviceId: 'child-1', moduleId: '$edgeHub' };
    assert.equal(authChainFor(self, 'child-1'), undefined);
    assert.equal(authChainFor({ deviceId: 'leaf-a' }, 'child-1'), 'leaf-a;child-1');
    const username = upstreamUsername({
      iothubHostname: 'h',
      target: self,
      edgeDeviceId: 'child-1',
      productInfo: 'p',
    });
    assert.doesNotMatch(username, /auth-chain/);
    assert.equal(edgeHubAudience('h', 'child-1'), 'h/devices/child-1/modules/$edgeHub');
  });

  test('the topic keeps what the sender set ($.mid, $.cid, $.ct, $.ce, $.on) and the parent reads it as sent', () => {
    const origin = { deviceId: 'child-1', moduleId: 'sensor' };
    const topic = upstreamTopic(origin, moduleMessage);
    assert.ok(topic.startsWith('devices/child-1/modules/sensor/messages/events/'), topic);
    assert.doesNotMatch(topic, /cdid|cmid|enqueued/, 'connection ids are the receiver’s to set');
    const read = classifyPublish(origin, topic, moduleMessage.body);
    assert.equal(read.kind, 'telemetry');
    if (read.kind !== 'telemetry') return;
    assert.deepEqual(read.message.properties, moduleMessage.properties);
    assert.equal(read.message.source, '/messages/modules/sensor/outputs/out1');
    const { enqueuedTime: _dropped, ...expected } = moduleMessage.systemProperties;
    assert.deepEqual(read.message.systemProperties, expected);
  });
});

describe('where the upstream is', () => {
  test('parent_hostname (with an optional port) wins over the IoT Hub; 8883 by default', () => {
    assert.deepEqual(upstreamAddress({ parentHostname: 'parent.lan', iothubHostname: 'h' }), {
      kind: 'parent',
      host: 'parent.lan',
      port: 8883,
    });
    assert.deepEqual(upstreamAddress({ parentHostname: '127.0.0.1:18883', iothubHostname: 'h' }), {
      kind: 'parent',
      host: '127.0.0.1',
      port: 18883,
    });
    assert.deepEqual(upstreamAddress({ parentHostname: '[::1]:9', iothubHostname: 'h' }), {
      kind: 'parent',
      host: '::1',
      port: 9,
    });
    assert.deepEqual(upstreamAddress({ iothubHostname: 'hub.example.net' }), {
      kind: 'iothub',
      host: 'hub.example.net',
      port: 8883,
    });
    assert.equal(formatAddress({ host: '::1', port: 9 }), '[::1]:9');
  });

  test('a port out of range or a malformed name is a clear error', () => {
    assert.throws(
      () => upstreamAddress({ parentHostname: 'p:70000', iothubHostname: 'h' }),
      (error: Error) =>
        error instanceof UpstreamAddressError &&
        error.message === 'parent_hostname: port 70000 is not between 1 and 65535',
    );
    assert.throws(
      () => upstreamAddress({ parentHostname: 'a b:1', iothubHostname: 'h' }),
      /parent_hostname: expected host or host:port, got "a b:1"/,
    );
  });
});

describe('reconnection backoff', () => {
  test('doubles from 1 s, capped at a minute, half fixed and half jitter', () => {
    const low = [0, 1, 2, 3, 5, 6, 7, 30, 1000].map((n) => reconnectDelayMs(n, () => 0));
    const high = [0, 1, 2, 3, 5, 6, 7, 30, 1000].map((n) => reconnectDelayMs(n, () => 0.999999));
    assert.deepEqual(low, [500, 1000, 2000, 4000, 16000, 30000, 30000, 30000, 30000]);
    assert.deepEqual(high, [1000, 2000, 4000, 8000, 32000, 60000, 60000, 60000, 60000]);
    assert.equal(
      reconnectDelayMs(-3, () => 0.5),
      750,
      'a negative count counts as none',
    );
  });
});
