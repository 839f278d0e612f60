import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HubMessage } from '../../../../src/runtime/routing/message.js';
import {
  c2dTopic,
  classifyPublish,
  classifySubscribe,
  desiredPatchTopic,
  inputMessageTopic,
  methodRequestTopic,
  twinResponseTopic,
  type InboundPublish,
  type WireIdentity,
} from '../../../../src/runtime/hub/mqtt/topics.js';

const module1: WireIdentity = { deviceId: 'dev1', moduleId: 'm1' };
const mod1: WireIdentity = { deviceId: 'dev1', moduleId: 'mod1' };
const device2: WireIdentity = { deviceId: 'dev2' };
const body = Buffer.from('{"temp":20}');

function telemetry(identity: WireIdentity, topic: string): HubMessage {
  const result = classifyPublish(identity, topic, body);
  assert.equal(result.kind, 'telemetry', `${topic}: ${JSON.stringify(result)}`);
  return (result as Extract<InboundPublish, { kind: 'telemetry' }>).message;
}

const kind = (identity: WireIdentity, topic: string): string => classifyPublish(identity, topic, body).kind;

test('a module output as the SDK publishes it', () => {
  const message = telemetry(
    module1,
    'devices/dev1/modules/m1/messages/events/%24.on=out1&%24.ct=application%2Fjson&%24.ce=utf-8&temp=20',
  );
  assert.equal(message.body, body);
  assert.equal(message.source, '/messages/modules/m1/outputs/out1');
  assert.deepEqual(message.properties, { temp: '20' });
  assert.deepEqual(message.systemProperties, {
    outputName: 'out1',
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    connectionDeviceId: 'dev1',
    connectionModuleId: 'm1',
  });
});

test('sendOutputEvent ends the bag with a `/`, which is not part of the last value', () => {
  const withProps = telemetry(mod1, 'devices/dev1/modules/mod1/messages/events/%24.on=output1&k=v/');
  assert.equal(withProps.source, '/messages/modules/mod1/outputs/output1');
  assert.deepEqual(withProps.properties, { k: 'v' });
  const bare = telemetry(mod1, 'devices/dev1/modules/mod1/messages/events/%24.on=output2/');
  assert.equal(bare.systemProperties.outputName, 'output2');
  assert.deepEqual(bare.properties, {});
});

test('module sendEvent without an output', () => {
  const message = telemetry(mod1, 'devices/dev1/modules/mod1/messages/events/%24.mid=mid-1&%24.cid=c');
  assert.equal(message.source, '/messages/modules/mod1');
  assert.equal(message.systemProperties.messageId, 'mid-1');
  assert.equal(
    telemetry(mod1, 'devices/dev1/modules/mod1/messages/events/').source,
    '/messages/modules/mod1',
  );
});

test('device telemetry: empty bag with and without the trailing `/`, bag without one', () => {
  for (const topic of ['devices/dev2/messages/events/', 'devices/dev2/messages/events']) {
    const message = telemetry(device2, topic);
    assert.equal(message.source, '/messages');
    assert.deepEqual(message.properties, {});
    assert.deepEqual(message.systemProperties, { connectionDeviceId: 'dev2' });
  }
  const message = telemetry(device2, 'devices/dev2/messages/events/a=1&%24.on=ignored');
  assert.equal(message.source, '/messages');
  assert.deepEqual(message.properties, { a: '1' });
});

test('connection ids come from the identity, never from the bag', () => {
  const message = telemetry(device2, 'devices/dev2/messages/events/%24.cdid=evil&%24.cmid=evil');
  assert.equal(message.systemProperties.connectionDeviceId, 'dev2');
  assert.equal(message.systemProperties.connectionModuleId, undefined);
  assert.deepEqual(message.properties, { '$.cdid': 'evil', '$.cmid': 'evil' });
});

test('a telemetry topic of another identity is forbidden', () => {
  assert.equal(kind(device2, 'devices/dev3/messages/events/'), 'forbidden');
  assert.equal(kind({ deviceId: 'dev1' }, 'devices/dev10/messages/events/'), 'forbidden');
  assert.equal(kind({ deviceId: 'dev10' }, 'devices/dev1/messages/events/'), 'forbidden');
  assert.equal(kind(module1, 'devices/dev1/messages/events/'), 'forbidden');
  assert.equal(kind(module1, 'devices/dev1/modules/m2/messages/events/'), 'forbidden');
  assert.equal(kind(module1, 'devices/dev2/modules/m1/messages/events/'), 'forbidden');
  assert.equal(kind({ deviceId: 'dev1' }, 'devices/dev1/modules/m1/messages/events/'), 'forbidden');
  assert.equal(kind({ deviceId: 'Dev2' }, 'devices/dev2/messages/events/'), 'forbidden');
  const result = classifyPublish(device2, 'devices/dev3/messages/events/', body);
  assert.ok(result.kind === 'forbidden' && result.reason.includes('dev2'));
});

test('topics the hub does not know', () => {
  for (const topic of [
    'devices/dev2/messages/eventsX',
    'devices/dev2/messages/events2/a=1',
    'devices/dev2/messages/devicebound/',
    'devices/dev2',
    'devices//messages/events/',
    'devices/dev1/modules//messages/events/',
    'devices/dev1/modules/m1',
    'telemetry',
    '',
    '$iothub/twin/PUT/?$rid=1',
    '$iothub/methods/POST/x/?$rid=1',
  ]) {
    assert.equal(kind(device2, topic), 'unknown', topic);
  }
});

test('twin GET as the SDK publishes it', () => {
  assert.deepEqual(
    classifyPublish(mod1, '$iothub/twin/GET/?$rid=d16a9011-5b1f-4c7f-8c3e-0f2f0b9f3c1a', body),
    {
      kind: 'twin-get',
      requestId: 'd16a9011-5b1f-4c7f-8c3e-0f2f0b9f3c1a',
    },
  );
  assert.deepEqual(classifyPublish(mod1, '$iothub/twin/GET?$rid=7', body), {
    kind: 'twin-get',
    requestId: '7',
  });
  assert.deepEqual(classifyPublish(mod1, '$iothub/twin/GET/?x=1&%24rid=a%20b', body), {
    kind: 'twin-get',
    requestId: 'a b',
  });
});

test('a twin request without $rid cannot be answered', () => {
  assert.equal(kind(mod1, '$iothub/twin/GET/'), 'unknown');
  assert.equal(kind(mod1, '$iothub/twin/GET/?$rid='), 'unknown');
  assert.equal(kind(mod1, '$iothub/twin/GET/?rid=1'), 'unknown');
  assert.equal(kind(mod1, '$iothub/twin/PATCH/properties/reported/'), 'unknown');
});

test('reported patch, with and without $version', () => {
  assert.deepEqual(
    classifyPublish(
      mod1,
      '$iothub/twin/PATCH/properties/reported/?$rid=39183156-1b4d-4d0a-9a3e-2c3a1f9c5e77',
      body,
    ),
    { kind: 'twin-patch-reported', requestId: '39183156-1b4d-4d0a-9a3e-2c3a1f9c5e77' },
  );
  assert.deepEqual(classifyPublish(mod1, '$iothub/twin/PATCH/properties/reported/?$rid=1&$version=4', body), {
    kind: 'twin-patch-reported',
    requestId: '1',
    version: 4,
  });
  assert.deepEqual(classifyPublish(mod1, '$iothub/twin/PATCH/properties/reported/?$rid=1&$version=x', body), {
    kind: 'twin-patch-reported',
    requestId: '1',
  });
});

test('method responses carry any integer status', () => {
  assert.deepEqual(classifyPublish(mod1, '$iothub/methods/res/201/?$rid=42', body), {
    kind: 'method-response',
    requestId: '42',
    status: 201,
  });
  assert.deepEqual(classifyPublish(mod1, '$iothub/methods/res/-1?$rid=a', body), {
    kind: 'method-response',
    requestId: 'a',
    status: -1,
  });
  assert.equal(kind(mod1, '$iothub/methods/res/abc/?$rid=1'), 'unknown');
  assert.equal(kind(mod1, '$iothub/methods/res//?$rid=1'), 'unknown');
  assert.equal(kind(mod1, '$iothub/methods/res/2.5/?$rid=1'), 'unknown');
  assert.equal(kind(mod1, '$iothub/methods/res/200/'), 'unknown');
});

test('SUBSCRIBE filters the SDK sends', () => {
  const sub = (identity: WireIdentity, filter: string) => classifySubscribe(identity, filter);
  assert.deepEqual(sub(mod1, 'devices/dev1/modules/mod1/inputs/#'), {
    kind: 'subscription',
    subscription: 'inputs',
  });
  assert.deepEqual(sub(mod1, 'devices/dev1/modules/mod1/#'), {
    kind: 'subscription',
    subscription: 'inputs',
  });
  assert.deepEqual(sub(device2, 'devices/dev2/messages/devicebound/#'), {
    kind: 'subscription',
    subscription: 'c2d',
  });
  assert.deepEqual(sub(mod1, '$iothub/methods/POST/#'), { kind: 'subscription', subscription: 'methods' });
  assert.deepEqual(sub(device2, '$iothub/twin/res/#'), {
    kind: 'subscription',
    subscription: 'twin-responses',
  });
  assert.deepEqual(sub(mod1, '$iothub/twin/PATCH/properties/desired/#'), {
    kind: 'subscription',
    subscription: 'desired',
  });
});

test('subscriptions for another identity are forbidden', () => {
  const forbidden = (identity: WireIdentity, filter: string) =>
    assert.equal(classifySubscribe(identity, filter).kind, 'forbidden', filter);
  forbidden(mod1, 'devices/dev1/modules/other/inputs/#');
  forbidden(mod1, 'devices/dev2/modules/mod1/#');
  forbidden(mod1, 'devices/+/modules/+/#');
  forbidden(mod1, 'devices/dev1/messages/devicebound/#');
  forbidden(device2, 'devices/dev3/messages/devicebound/#');
  forbidden(device2, 'devices/dev2/modules/m/inputs/#');
});

test('any other filter is unknown (refused, as IoT Hub does)', () => {
  for (const filter of [
    '#',
    '$SYS/#',
    '+/#',
    '$iothub/#',
    'devices/dev1/modules/mod1/inputs/in1/#',
    'devices/dev1/modules/mod1/inputs/+',
    'devices/dev2/messages/devicebound/+',
    'devices/dev2/#',
    '$iothub/twin/res/+',
    '$iothub/methods/POST/x',
  ]) {
    assert.equal(classifySubscribe(mod1, filter).kind, 'unknown', filter);
  }
});

test('an input message topic always has the `/` after the input name', () => {
  const message = { properties: {}, systemProperties: {} };
  assert.equal(
    inputMessageTopic('dev1', 'mod1', 'input1', message),
    'devices/dev1/modules/mod1/inputs/input1/',
  );
  const withProps = {
    properties: { color: 'red blue' },
    systemProperties: { messageId: 'in-1', connectionDeviceId: 'leaf1' },
  };
  assert.equal(
    inputMessageTopic('dev1', 'mod1', 'input1', withProps),
    'devices/dev1/modules/mod1/inputs/input1/color=red%20blue&%24.mid=in-1&%24.cdid=leaf1',
  );
  assert.equal(inputMessageTopic('d', 'm', 'i', withProps, 'pre=1'), 'devices/d/modules/m/inputs/i/pre=1');
});

test('C2D, twin response, desired patch and method request topics', () => {
  assert.equal(
    c2dTopic('dev2', {
      properties: {},
      systemProperties: { messageId: 'x', to: '/devices/dev2/messages/devicebound' },
    }),
    'devices/dev2/messages/devicebound/%24.mid=x&%24.to=%2Fdevices%2Fdev2%2Fmessages%2Fdevicebound',
  );
  assert.equal(
    c2dTopic('dev2', { properties: {}, systemProperties: {} }),
    'devices/dev2/messages/devicebound/',
  );
  assert.equal(twinResponseTopic(200, 'd16a9011'), '$iothub/twin/res/200/?$rid=d16a9011');
  assert.equal(twinResponseTopic(204, '39183156', 4), '$iothub/twin/res/204/?$rid=39183156&$version=4');
  assert.equal(twinResponseTopic(400, 'a b&c'), '$iothub/twin/res/400/?$rid=a%20b%26c');
  assert.equal(desiredPatchTopic(8), '$iothub/twin/PATCH/properties/desired/?$version=8');
  assert.equal(methodRequestTopic('echo', '42'), '$iothub/methods/POST/echo/?$rid=42');
});

test('a request id the hub decoded is encoded again on the way back', () => {
  const result = classifyPublish(mod1, '$iothub/twin/GET/?$rid=a%26b', body);
  assert.ok(result.kind === 'twin-get');
  assert.equal(result.requestId, 'a&b');
  assert.equal(twinResponseTopic(200, result.requestId), '$iothub/twin/res/200/?$rid=a%26b');
});
