import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HubMessage } from '../../../../src/runtime/routing/message.js';
import {
  decodePropertyBag,
  encodePropertyBag,
  percentDecode,
} from '../../../../src/runtime/hub/mqtt/property-bag.js';

type Bag = Pick<HubMessage, 'properties' | 'systemProperties'>;

test('the bag the Node SDK builds for a telemetry message with every property decodes to system and app properties', () => {
  // the property bag exactly as the Node SDK's MQTT transport put it on the wire
  const bag =
    '%24.mid=mid-1&%24.cid=cid-1&%24.uid=u1&%24.to=%2Fdevices%2Fx&%24.ct=application%2Fjson&%24.ce=utf-8' +
    '&%24.exp=2030-01-01T00%3A00%3A00.000Z&a%20b=x%2Fy%26z%3D1&%24.sub=subj';
  assert.deepEqual(decodePropertyBag(bag), {
    properties: { 'a b': 'x/y&z=1' },
    systemProperties: {
      messageId: 'mid-1',
      correlationId: 'cid-1',
      userId: 'u1',
      to: '/devices/x',
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      absoluteExpiryTime: '2030-01-01T00:00:00.000Z',
      componentName: 'subj',
    },
  });
});

test('every inbound system key maps to its HubMessage name, `$` written raw or as %24', () => {
  const bag =
    '$.on=out1&%24.schema=s1&$.ctime=2024-01-01T00%3A00%3A00Z&%24.ifid=urn%3Ax&iothub-operation=op&ack=full';
  assert.deepEqual(decodePropertyBag(bag), {
    properties: {},
    systemProperties: {
      outputName: 'out1',
      messageSchema: 's1',
      creationTime: '2024-01-01T00:00:00Z',
      interfaceId: 'urn:x',
      operation: 'op',
      ack: 'full',
    },
  });
});

test('a system key is recognised however it is percent-encoded, but not when encoded twice', () => {
  assert.deepEqual(decodePropertyBag('%24%2Emid=a&%24%2ecid=b&%2524.uid=c'), {
    properties: { '%24.uid': 'c' },
    systemProperties: { messageId: 'a', correlationId: 'b' },
  });
});

test('keys the hub does not take from clients stay application properties under their literal names', () => {
  const { properties, systemProperties } = decodePropertyBag(
    '%24.cdid=spoof&%24.cmid=m&%24.x=1&iothub-ack=full',
  );
  assert.deepEqual(properties, { '$.cdid': 'spoof', '$.cmid': 'm', '$.x': '1', 'iothub-ack': 'full' });
  assert.deepEqual(systemProperties, {});
});

test('an empty bag, empty pairs, bare keys and repeated keys', () => {
  assert.deepEqual(decodePropertyBag(''), { properties: {}, systemProperties: {} });
  assert.deepEqual(decodePropertyBag('&&a=1&&'), { properties: { a: '1' }, systemProperties: {} });
  assert.deepEqual(decodePropertyBag('flag&b='), { properties: { flag: '', b: '' }, systemProperties: {} });
  assert.deepEqual(decodePropertyBag('a=1&a=2'), { properties: { a: '2' }, systemProperties: {} });
  assert.deepEqual(decodePropertyBag('a=x=y'), { properties: { a: 'x=y' }, systemProperties: {} });
});

test('`+` is a plus sign, not a space (the SDK decodes with decodeURIComponent)', () => {
  assert.deepEqual(decodePropertyBag('a+b=1+2').properties, { 'a+b': '1+2' });
});

test('a malformed escape is kept as written and the rest still decodes', () => {
  assert.equal(percentDecode('100%'), '100%');
  assert.equal(percentDecode('%41%zz%42'), 'A%zzB');
  assert.equal(percentDecode('%E2%82'), '%E2%82');
  assert.equal(percentDecode('caf%C3%A9%'), 'café%');
  assert.deepEqual(decodePropertyBag('k%=v%2').properties, { 'k%': 'v%2' });
});

test('multi-byte UTF-8 escapes decode', () => {
  assert.deepEqual(decodePropertyBag('%E2%82%AC=%F0%9F%98%80').properties, { '€': '😀' });
});

test('an application property called __proto__ is an own property, not the prototype', () => {
  const { properties } = decodePropertyBag('__proto__=x&b=1');
  assert.equal(Object.getPrototypeOf(properties), Object.prototype);
  assert.deepEqual(Object.keys(properties), ['__proto__', 'b']);
  assert.equal(Object.getOwnPropertyDescriptor(properties, '__proto__')?.value, 'x');
});

test('a range of a longer string decodes without slicing it first', () => {
  const topic = 'devices/d/messages/events/a=1&b=2/';
  const start = topic.indexOf('a=');
  assert.deepEqual(decodePropertyBag(topic, start, topic.length - 1).properties, { a: '1', b: '2' });
});

test('outbound: application properties first, then system properties, `$` as %24 and reserved characters escaped', () => {
  const bag: Bag = {
    properties: { color: 'red blue', 'a&b': 'x=y/z', tilde: "~!*'()-_." },
    systemProperties: { messageId: 'in-1', connectionDeviceId: 'leaf1' },
  };
  assert.equal(
    encodePropertyBag(bag),
    "color=red%20blue&a%26b=x%3Dy%2Fz&tilde=~!*'()-_.&%24.mid=in-1&%24.cdid=leaf1",
  );
});

test('outbound: every system property the clients know, in a fixed order', () => {
  const bag: Bag = {
    properties: {},
    systemProperties: {
      ack: 'full',
      operation: 'op',
      componentName: 'c',
      connectionModuleId: 'm1',
      connectionDeviceId: 'd1',
      creationTime: 't0',
      messageSchema: 's',
      absoluteExpiryTime: '2030-01-01T00:00:00.000Z',
      contentEncoding: 'utf-8',
      contentType: 'application/json',
      userId: 'u',
      to: '/x',
      correlationId: 'c1',
      messageId: 'm',
    },
  };
  assert.equal(
    encodePropertyBag(bag),
    '%24.mid=m&%24.cid=c1&%24.to=%2Fx&%24.uid=u&%24.ct=application%2Fjson&%24.ce=utf-8' +
      '&%24.exp=2030-01-01T00%3A00%3A00.000Z&%24.schema=s&%24.ctime=t0&%24.cdid=d1&%24.cmid=m1&%24.sub=c' +
      '&iothub-operation=op&ack=full',
  );
});

test('outbound: routing-only system properties stay off the wire', () => {
  const bag: Bag = {
    properties: {},
    systemProperties: {
      outputName: 'o',
      inputName: 'i',
      enqueuedTime: 't',
      interfaceId: 'x',
      connectionAuthMethod: 'sas',
      connectionDeviceGenerationId: 'g',
    },
  };
  assert.equal(encodePropertyBag(bag), '');
});

test('outbound: an application property spelt like a system key gives way when that property is set', () => {
  const spoofed: Bag = {
    properties: { '$.cdid': 'spoof', keep: '1' },
    systemProperties: { connectionDeviceId: 'real' },
  };
  assert.equal(encodePropertyBag(spoofed), 'keep=1&%24.cdid=real');
  const unset: Bag = { properties: { '$.cdid': 'orig' }, systemProperties: {} };
  assert.equal(encodePropertyBag(unset), '%24.cdid=orig');
});

test('outbound: an empty value still gets its `=`, a lone surrogate becomes U+FFFD', () => {
  assert.equal(encodePropertyBag({ properties: { e: '' }, systemProperties: {} }), 'e=');
  assert.equal(encodePropertyBag({ properties: { s: 'a\uD800b' }, systemProperties: {} }), 's=a%EF%BF%BDb');
});

test('round trip: what the hub encodes decodes to the same properties', () => {
  const bag: Bag = {
    properties: { 'a b': 'c&d=e', '€': '😀', '%': '%25', plus: '1+1', '': 'empty key' },
    systemProperties: {
      messageId: 'm',
      correlationId: 'c',
      to: '/devices/x/messages/devicebound',
      userId: 'u',
      contentType: 'application/json; charset=utf-8',
      contentEncoding: 'utf-8',
      absoluteExpiryTime: '2030-01-01T00:00:00.000Z',
      messageSchema: 's',
      creationTime: 't',
      componentName: 'c1',
      operation: 'op',
      ack: 'none',
    },
  };
  assert.deepEqual(decodePropertyBag(encodePropertyBag(bag)), bag);
});
