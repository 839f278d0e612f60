import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ownsTarget, parseLinkAddress } from '../../../../src/runtime/hub/amqp-head/addresses.js';
import {
  audienceIdentity,
  parsePutToken,
  plainUsernameIdentity,
  SAS_TOKEN_TYPE,
} from '../../../../src/runtime/hub/amqp-head/cbs.js';
import {
  idText,
  inboundTelemetry,
  outboundMessage,
} from '../../../../src/runtime/hub/amqp-head/message-map.js';

test('link addresses: IoT Hub device and module addresses, $cbs, and nothing else', () => {
  assert.deepEqual(parseLinkAddress('/devices/d1/messages/events'), { kind: 'events', deviceId: 'd1' });
  assert.deepEqual(parseLinkAddress('/devices/d1/modules/m%2F/messages/events?api-version=2021-04-12'), {
    kind: 'events',
    deviceId: 'd1',
    moduleId: 'm/',
  });
  assert.deepEqual(parseLinkAddress('devices/d1/messages/devicebound'), {
    kind: 'devicebound',
    deviceId: 'd1',
  });
  assert.deepEqual(parseLinkAddress('/devices/d1/modules/m1/methods/devicebound'), {
    kind: 'methods',
    deviceId: 'd1',
    moduleId: 'm1',
  });
  assert.deepEqual(parseLinkAddress('amqps://hub/devices/d1/twin'), { kind: 'twin', deviceId: 'd1' });
  assert.deepEqual(parseLinkAddress('$cbs'), { kind: 'cbs' });
  for (const address of [
    undefined,
    42,
    '',
    '/devices',
    '/devices/d1',
    '/devices/d1/messages',
    '/devices/d1/modules//twin',
    '/devices/d1/files',
    '/messages/events',
    '$management',
  ])
    assert.equal(parseLinkAddress(address), undefined, String(address));
  const target = { deviceId: 'd1', moduleId: 'm1' };
  assert.equal(ownsTarget({ id: 'd1/m1', deviceId: 'd1', moduleId: 'm1' }, target), true);
  assert.equal(ownsTarget({ id: 'd1', deviceId: 'd1' }, target), false);
  assert.equal(ownsTarget({ id: 'd2/m1', deviceId: 'd2', moduleId: 'm1' }, target), false);
});

test('put-token: the audience names the identity, the body is the token; anything else is a 400', () => {
  assert.deepEqual(audienceIdentity('hub.azure-devices.net/devices/d1'), { deviceId: 'd1' });
  assert.deepEqual(audienceIdentity('hub.azure-devices.net%2Fdevices%2Fd1%2Fmodules%2Fm1'), {
    deviceId: 'd1',
    moduleId: 'm1',
  });
  assert.equal(audienceIdentity('hub/devices'), undefined);
  assert.equal(audienceIdentity('%E0%A4%A'), undefined);
  const properties = { operation: 'put-token', type: SAS_TOKEN_TYPE, name: 'h/devices/d1/modules/m1' };
  assert.deepEqual(parsePutToken(properties, 'SharedAccessSignature sr=x'), {
    ok: true,
    deviceId: 'd1',
    moduleId: 'm1',
    token: 'SharedAccessSignature sr=x',
  });
  assert.deepEqual(parsePutToken(properties, { typecode: 0x75, content: Buffer.from('tok') }), {
    ok: true,
    deviceId: 'd1',
    moduleId: 'm1',
    token: 'tok',
  });
  const refusals: [Record<string, unknown> | undefined, unknown, RegExp][] = [
    [undefined, 'tok', /unsupported \$cbs operation undefined/],
    [{ ...properties, operation: 'delete-token' }, 'tok', /delete-token/],
    [{ ...properties, type: 'jwt' }, 'tok', /unsupported token type "jwt"/],
    [{ ...properties, name: 'h/things/d1' }, 'tok', /names no device or module/],
    [properties, '', /carries no token/],
    [properties, 12, /carries no token/],
  ];
  for (const [props, body, reason] of refusals) {
    const parsed = parsePutToken(props, body);
    assert.equal(parsed.ok, false);
    if (!parsed.ok) {
      assert.equal(parsed.status, 400);
      assert.match(parsed.reason, reason);
    }
  }
});

test('SASL PLAIN usernames: {id}@sas.{hub} and a module under its device', () => {
  assert.deepEqual(plainUsernameIdentity('d1@sas.hub'), { deviceId: 'd1' });
  assert.deepEqual(plainUsernameIdentity('d1/m1@sas.hub'), { deviceId: 'd1', moduleId: 'm1' });
  assert.deepEqual(plainUsernameIdentity('d1/modules/m1@sas.hub'), { deviceId: 'd1', moduleId: 'm1' });
  for (const name of ['d1', '@sas.hub', 'd1//@sas.hub', 'a/b/c/d@sas.hub', 'd1/things/m1@sas.hub'])
    assert.equal(plainUsernameIdentity(name), undefined, name);
});

test('telemetry: AMQP properties and IoT Hub application properties become system properties', () => {
  const uuid = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
  assert.equal(idText(uuid), '01234567-89ab-cdef-0123-456789abcdef');
  assert.equal(idText(7), '7');
  assert.equal(idText({}), undefined);
  const message = inboundTelemetry(
    { id: 'd1/m1', deviceId: 'd1', moduleId: 'm1' },
    {
      message_id: uuid,
      correlation_id: 'c-1',
      content_type: 'application/json',
      content_encoding: 'utf-8',
      creation_time: new Date('2026-01-02T03:04:05Z'),
      application_properties: { 'iothub-outputname': 'out1', seq: 3, flag: true },
      message_annotations: { 'iothub-interface-id': 'dtmi:x;1', 'x-opt-other': 'ignored' },
      body: { typecode: 0x75, content: Buffer.from('{"t":1}') },
    },
  );
  assert.deepEqual(message, {
    body: Buffer.from('{"t":1}'),
    properties: { seq: '3', flag: 'true' },
    systemProperties: {
      messageId: '01234567-89ab-cdef-0123-456789abcdef',
      correlationId: 'c-1',
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      creationTime: '2026-01-02T03:04:05.000Z',
      outputName: 'out1',
      interfaceId: 'dtmi:x;1',
      connectionDeviceId: 'd1',
      connectionModuleId: 'm1',
    },
    source: '/messages/modules/m1/outputs/out1',
  });
  // a device's message, its body an AMQP string
  const device = inboundTelemetry({ id: 'd1', deviceId: 'd1' }, { body: 'hello' });
  assert.equal(device?.source, '/messages');
  assert.deepEqual(device?.body, Buffer.from('hello'));
  assert.equal(inboundTelemetry({ id: 'd1', deviceId: 'd1' }, { body: { some: 'map' } }), undefined);
});

test('deliveries: the input name annotated, system properties as AMQP properties and annotations', () => {
  const amqp = outboundMessage(
    {
      body: Buffer.from('x'),
      properties: { seq: '1' },
      systemProperties: {
        messageId: 'm-1',
        correlationId: 'c-1',
        contentType: 'text/plain',
        ack: 'full',
        connectionDeviceId: 'd1',
        connectionModuleId: 'sender',
        enqueuedTime: '2026-01-01T00:00:00.000Z',
        absoluteExpiryTime: 'not a date',
      },
    },
    'in1',
  );
  assert.equal(amqp.message_id, 'm-1');
  assert.equal(amqp.correlation_id, 'c-1');
  assert.equal(amqp.content_type, 'text/plain');
  assert.equal(amqp.absolute_expiry_time, undefined);
  assert.deepEqual(amqp.application_properties, { seq: '1', 'iothub-ack': 'full' });
  assert.deepEqual(amqp.message_annotations, {
    'iothub-connection-device-id': 'd1',
    'iothub-connection-module-id': 'sender',
    'iothub-enqueuedtime': '2026-01-01T00:00:00.000Z',
    'x-opt-input-name': 'in1',
  });
  assert.deepEqual((amqp.body as { content: Buffer }).content, Buffer.from('x'));
  assert.equal((amqp.body as { typecode: number }).typecode, 0x75);
});
