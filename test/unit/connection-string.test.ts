import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionStringError, parseConnectionString } from '../../src/runtime/config/connection-string.js';

const KEY = 'c2VjcmV0a2V5c2VjcmV0a2V5';

function rejects(cs: string, message: string): void {
  assert.throws(
    () => parseConnectionString(cs),
    (error: unknown) => {
      assert.ok(error instanceof ConnectionStringError);
      assert.equal(error.message, message);
      return true;
    },
    cs,
  );
}

const malformed = (parameter: string) =>
  `The Connection String has a malformed value for parameter ${parameter}.`;
const missing = (parameter: string) => `The Connection String is missing required parameter ${parameter}`;

test('a well-formed connection string yields hub, device and key', () => {
  assert.deepEqual(
    parseConnectionString(`HostName=hub.azure-devices.net;DeviceId=dev-1;SharedAccessKey=${KEY}`),
    {
      hostName: 'hub.azure-devices.net',
      deviceId: 'dev-1',
      sharedAccessKey: KEY,
    },
  );
});

test('key order does not matter and unknown keys are ignored', () => {
  const parsed = parseConnectionString(`SharedAccessKey=${KEY};GatewayHostName=gw;DeviceId=d;x;HostName=h;`);
  assert.deepEqual(parsed, { hostName: 'h', deviceId: 'd', sharedAccessKey: KEY });
});

test('the value is only the text between the first and the second `=`', () => {
  const parsed = parseConnectionString('HostName=h;DeviceId=d;SharedAccessKey=YWJjZA==');
  assert.equal(parsed.sharedAccessKey, 'YWJjZA', 'padding dropped');
  assert.equal(parseConnectionString('HostName=h=ignored;DeviceId=d;SharedAccessKey=YQ').hostName, 'h');
});

test('unpadded base64 keys are accepted; a key whose length leaves one extra character is not', () => {
  for (const key of ['YQ', 'YWI', 'YWJj', 'a+b/']) {
    assert.equal(parseConnectionString(`HostName=h;DeviceId=d;SharedAccessKey=${key}`).sharedAccessKey, key);
  }
  rejects('HostName=h;DeviceId=d;SharedAccessKey=YWJjZ', malformed('SharedAccessKey'));
});

test('keys are case-sensitive', () => {
  rejects(`hostname=h;DeviceId=d;SharedAccessKey=${KEY}`, missing('HostName'));
  rejects(`HostName=h;deviceid=d;SharedAccessKey=${KEY}`, malformed('DeviceId'));
  rejects('HostName=h;DeviceId=d;sharedaccesskey=YQ', missing('SharedAccessKey'));
});

test('an empty connection string', () => {
  rejects(
    '',
    'The Connection String is empty. Please update the config.yaml and provide the IoTHub connection information.',
  );
});

test('the template placeholder', () => {
  rejects(
    '<ADD DEVICE CONNECTION STRING HERE>',
    'Edge device information is required.\nPlease update config.yaml with the IoT Hub connection information.\n' +
      'See https://aka.ms/iot-edge-configure-linux for more details.',
  );
});

test('SharedAccessKey: missing, without `=`, empty, not base64', () => {
  rejects('HostName=h;DeviceId=d', missing('SharedAccessKey'));
  rejects('HostName=h;DeviceId=d;SharedAccessKey', missing('SharedAccessKey'));
  rejects(`HostName=h;DeviceId=d;SharedAccessKey=${KEY};SharedAccessKey`, missing('SharedAccessKey'));
  rejects('HostName=h;DeviceId=d;SharedAccessKey=', malformed('SharedAccessKey'));
  rejects('HostName=h;DeviceId=d;SharedAccessKey=not base64!', malformed('SharedAccessKey'));
  rejects('HostName=h;DeviceId=d;SharedAccessKey=YW_j', malformed('SharedAccessKey'));
});

test('DeviceId: missing or not matching the allowed characters is malformed', () => {
  rejects(`HostName=h;SharedAccessKey=${KEY}`, malformed('DeviceId'));
  rejects(`HostName=h;DeviceId=;SharedAccessKey=${KEY}`, malformed('DeviceId'));
  rejects(`HostName=h;DeviceId=a b;SharedAccessKey=${KEY}`, malformed('DeviceId'));
  rejects(`HostName=h;DeviceId=${'a'.repeat(129)};SharedAccessKey=${KEY}`, malformed('DeviceId'));
  const allowed = "A-z0:.+%_#*?!(),@$'";
  assert.equal(
    parseConnectionString(`HostName=h;DeviceId=${allowed};SharedAccessKey=${KEY}`).deviceId,
    allowed,
  );
  assert.equal(
    parseConnectionString(`HostName=h;DeviceId=${'a'.repeat(128)};SharedAccessKey=${KEY}`).deviceId.length,
    128,
  );
});

test('HostName: missing, then malformed', () => {
  rejects(`DeviceId=d;SharedAccessKey=${KEY}`, missing('HostName'));
  rejects(`HostName;DeviceId=d;SharedAccessKey=${KEY}`, missing('HostName'));
  rejects(`HostName=;DeviceId=d;SharedAccessKey=${KEY}`, malformed('HostName'));
  rejects(`HostName=hub:443;DeviceId=d;SharedAccessKey=${KEY}`, malformed('HostName'));
  assert.equal(
    parseConnectionString(`HostName=a_b-c.d;DeviceId=d;SharedAccessKey=${KEY}`).hostName,
    'a_b-c.d',
  );
});

test('errors are reported in the order of the rules', () => {
  // Everything is wrong: the key is checked first, then the device id, then the hub.
  rejects('HostName=bad host;DeviceId=bad id', missing('SharedAccessKey'));
  rejects('HostName=bad host;DeviceId=bad id;SharedAccessKey=!', malformed('SharedAccessKey'));
  rejects('HostName=bad host;DeviceId=bad id;SharedAccessKey=YQ', malformed('DeviceId'));
  rejects('DeviceId=ok;SharedAccessKey=YQ', missing('HostName'));
});

test('error messages never contain the connection string or the key', () => {
  for (const cs of [
    `HostName=h;DeviceId=bad id;SharedAccessKey=${KEY}`,
    `HostName=h h;DeviceId=d;SharedAccessKey=${KEY}`,
  ]) {
    assert.throws(
      () => parseConnectionString(cs),
      (error: unknown) => error instanceof Error && !error.message.includes(KEY),
    );
  }
});
