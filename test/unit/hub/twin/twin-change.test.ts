import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePropertyBag } from '../../../../src/runtime/hub/mqtt/property-bag.js';
import { twinChangeNotification } from '../../../../src/runtime/hub/twin/twin-change.js';

test('a module’s reported patch as a routed message', () => {
  const patch = { fw: '1.0', old: null };
  const message = twinChangeNotification({ deviceId: 'dev1', moduleId: 'mod1' }, patch, 4, new Date(0));
  assert.equal(message.source, '/twinChangeNotifications');
  assert.deepEqual(JSON.parse(message.body.toString('utf8')), {
    version: 4,
    properties: { reported: patch },
  });
  assert.deepEqual(message.properties, {});
  assert.deepEqual(message.systemProperties, {
    messageSchema: 'twinChangeNotification',
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    connectionDeviceId: 'dev1',
    connectionModuleId: 'mod1',
    enqueuedTime: '1970-01-01T00:00:00.000Z',
  });
});

test('a leaf device’s notification has no module id, and reaches clients with $.cdid', () => {
  const message = twinChangeNotification({ deviceId: 'leaf1' }, { a: 1 }, 2);
  assert.equal(message.systemProperties.connectionModuleId, undefined);
  assert.equal(message.systemProperties.enqueuedTime, undefined);
  assert.equal(
    encodePropertyBag(message),
    '%24.ct=application%2Fjson&%24.ce=utf-8&%24.schema=twinChangeNotification&%24.cdid=leaf1',
  );
});
