/**
 * The wire mapping against the real azure-iot-device-mqtt code, without sockets: the SDK's own topic
 * builder and topic parsers are called directly (they are methods that only read the fields given
 * here), so a change of SDK behaviour shows up as a failing unit test.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { HubMessage } from '../../../../src/runtime/routing/message.js';
import {
  c2dTopic,
  classifyPublish,
  desiredPatchTopic,
  inputMessageTopic,
  methodRequestTopic,
  twinResponseTopic,
} from '../../../../src/runtime/hub/mqtt/topics.js';

const require = createRequire(import.meta.url);

interface SdkProperties {
  add(key: string, value: string): void;
  count(): number;
  getItem(index: number): { key: string; value: string };
}

interface SdkMessage {
  data: unknown;
  messageId?: string;
  correlationId?: string;
  userId?: string;
  to?: string;
  contentType?: string;
  contentEncoding?: string;
  interfaceId?: string;
  expiryTimeUtc?: unknown;
  properties: SdkProperties;
}

type Handler = (this: unknown, topic: string, payload: Buffer) => void;

interface MethodMessage {
  methods: { methodName: string };
  requestId: string;
  body: Buffer;
}

const { Message } = require('azure-iot-device') as { Message: new (data: unknown) => SdkMessage };
const { Mqtt } = require('azure-iot-device-mqtt') as {
  Mqtt: {
    prototype: {
      _getEventTopicFromMessage(this: unknown, message: SdkMessage, extra?: Record<string, string>): string;
      _onInputMessage: Handler;
      _onC2DMessage: Handler;
      _onDeviceMethod: Handler;
      _extractPropertiesFromTopicPart: unknown;
    };
  };
};
const { MqttTwinClient } = require('azure-iot-device-mqtt/dist/mqtt_twin_client.js') as {
  MqttTwinClient: { prototype: { _onResponseMessage: Handler; _onMqttMessage: Handler } };
};

/** What the SDK emits when it receives `topic` with `handler`. */
function sdkReceive(handler: Handler, topic: string, payload = Buffer.from('x')): unknown[][] {
  const emitted: unknown[][] = [];
  const self = {
    _extractPropertiesFromTopicPart: Mqtt.prototype._extractPropertiesFromTopicPart,
    emit: (...args: unknown[]) => emitted.push(args),
  };
  handler.call(self, topic, payload);
  return emitted;
}

function appProperties(message: SdkMessage): Record<string, string> {
  const result: Record<string, string> = {};
  for (let i = 0; i < message.properties.count(); i++) {
    const { key, value } = message.properties.getItem(i);
    result[key] = value;
  }
  return result;
}

function sdkTopic(base: string, message: SdkMessage, outputName?: string): string {
  const mqtt = Mqtt.prototype;
  let topic = mqtt._getEventTopicFromMessage.call(
    { _topicTelemetryPublish: base },
    message,
    outputName === undefined ? undefined : { '$.on': outputName },
  );
  if (outputName !== undefined) topic += '/';
  return topic;
}

function telemetryOf(topic: string, identity: { deviceId: string; moduleId?: string }): HubMessage {
  const result = classifyPublish(identity, topic, Buffer.from('x'));
  assert.equal(result.kind, 'telemetry', topic);
  return (result as { message: HubMessage }).message;
}

test('every property the SDK can put on a module output reaches the HubMessage', () => {
  const message = new Message('{"a":1}');
  message.messageId = 'mid 1';
  message.correlationId = 'cid/1';
  message.userId = 'u&1';
  message.to = '/devices/x';
  message.contentType = 'application/json';
  message.contentEncoding = 'utf-8';
  message.interfaceId = 'urn:x:y';
  message.expiryTimeUtc = new Date('2030-01-01T00:00:00Z');
  message.properties.add('a b', 'x/y&z=1');
  message.properties.add('dt-subject', 'comp1');
  message.properties.add('€', "~!*'()");
  const topic = sdkTopic('devices/dev1/modules/mod1/messages/events/', message, 'out 1');
  const hub = telemetryOf(topic, { deviceId: 'dev1', moduleId: 'mod1' });
  assert.equal(hub.source, '/messages/modules/mod1/outputs/out 1');
  assert.deepEqual(hub.systemProperties, {
    outputName: 'out 1',
    messageId: 'mid 1',
    correlationId: 'cid/1',
    userId: 'u&1',
    to: '/devices/x',
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    interfaceId: 'urn:x:y',
    absoluteExpiryTime: '2030-01-01T00:00:00.000Z',
    componentName: 'comp1',
    connectionDeviceId: 'dev1',
    connectionModuleId: 'mod1',
  });
  assert.deepEqual(hub.properties, { 'a b': 'x/y&z=1', '€': "~!*'()" });
});

test('device sendEvent topics from the SDK, with and without properties', () => {
  const plain = sdkTopic('devices/dev2/messages/events/', new Message('x'));
  assert.equal(plain, 'devices/dev2/messages/events/');
  assert.equal(telemetryOf(plain, { deviceId: 'dev2' }).source, '/messages');
  const message = new Message('x');
  message.properties.add('k', 'v');
  const withProps = sdkTopic('devices/dev2/messages/events/', message);
  assert.deepEqual(telemetryOf(withProps, { deviceId: 'dev2' }).properties, { k: 'v' });
});

const routed: Pick<HubMessage, 'properties' | 'systemProperties'> = {
  properties: { color: 'red blue', 'a&b': 'c=d/e', '€': '😀', empty: '' },
  systemProperties: {
    messageId: 'in-1',
    correlationId: 'c 1',
    to: '/modules/mod1/inputs/in1',
    userId: 'u',
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    absoluteExpiryTime: '2030-01-01T00:00:00.000Z',
    connectionDeviceId: 'leaf1',
    connectionModuleId: 'sender',
    messageSchema: 'schema1',
    inputName: 'in1',
    outputName: 'out1',
  },
};

test('the SDK reads an input message the hub sends: input name, system and application properties', () => {
  const emitted = sdkReceive(
    Mqtt.prototype._onInputMessage,
    inputMessageTopic('dev1', 'mod1', 'in1', routed),
  );
  assert.equal(emitted.length, 1);
  const [event, inputName, message] = emitted[0] as [string, string, SdkMessage];
  assert.equal(event, 'inputMessage');
  assert.equal(inputName, 'in1');
  assert.equal(message.messageId, 'in-1');
  assert.equal(message.correlationId, 'c 1');
  assert.equal(message.to, '/modules/mod1/inputs/in1');
  assert.equal(message.userId, 'u');
  assert.equal(message.contentType, 'application/json');
  assert.equal(message.contentEncoding, 'utf-8');
  assert.equal(message.expiryTimeUtc, '2030-01-01T00:00:00.000Z');
  assert.deepEqual(appProperties(message), {
    color: 'red blue',
    'a&b': 'c=d/e',
    '€': '😀',
    empty: '',
    '$.schema': 'schema1',
    '$.cdid': 'leaf1',
    '$.cmid': 'sender',
  });
});

test('the SDK reads an input message without properties', () => {
  const topic = inputMessageTopic('dev1', 'mod1', 'in2', { properties: {}, systemProperties: {} });
  const [[event, inputName, message]] = sdkReceive(Mqtt.prototype._onInputMessage, topic) as [
    [string, string, SdkMessage],
  ];
  assert.equal(event, 'inputMessage');
  assert.equal(inputName, 'in2');
  assert.equal(message.properties.count(), 0);
});

test('the SDK reads a C2D message the hub sends', () => {
  const [[event, message]] = sdkReceive(Mqtt.prototype._onC2DMessage, c2dTopic('dev2', routed)) as [
    [string, SdkMessage],
  ];
  assert.equal(event, 'message');
  assert.equal(message.messageId, 'in-1');
  assert.equal(appProperties(message).color, 'red blue');
});

test('the SDK reads a method request the hub sends', () => {
  const emitted = sdkReceive(
    Mqtt.prototype._onDeviceMethod,
    methodRequestTopic('echo', 'r-42'),
    Buffer.from('null'),
  );
  assert.equal(emitted.length, 1);
  const [event, request] = emitted[0] as [string, MethodMessage];
  assert.equal(event, 'method_echo');
  assert.equal(request.methods.methodName, 'echo');
  assert.equal(request.requestId, 'r-42');
});

test('the SDK matches a twin response to its request by $rid, also when the hub had to encode it', () => {
  for (const rid of ['d16a9011-5b1f-4c7f-8c3e-0f2f0b9f3c1a', 'a b&c']) {
    const answers: unknown[][] = [];
    const self = { _pendingTwinRequests: { [rid]: (...args: unknown[]) => answers.push(args) } };
    const body = Buffer.from('{"desired":{"$version":1},"reported":{"$version":1}}');
    MqttTwinClient.prototype._onResponseMessage.call(self, twinResponseTopic(200, rid), body);
    assert.deepEqual(answers, [[null, { desired: { $version: 1 }, reported: { $version: 1 } }]], rid);
  }
  const patched: unknown[][] = [];
  const self = { _pendingTwinRequests: { r: (...args: unknown[]) => patched.push(args) } };
  MqttTwinClient.prototype._onResponseMessage.call(self, twinResponseTopic(204, 'r', 4), Buffer.alloc(0));
  assert.deepEqual(patched, [[null, undefined]]);
});

test('the SDK takes a desired patch the hub sends', () => {
  const emitted: unknown[][] = [];
  const self = { emit: (...args: unknown[]) => emitted.push(args) };
  MqttTwinClient.prototype._onMqttMessage.call(
    self,
    desiredPatchTopic(8),
    Buffer.from('{"color":"blue","$version":8}'),
  );
  assert.deepEqual(emitted, [['twinDesiredPropertiesUpdate', { color: 'blue', $version: 8 }]]);
});
