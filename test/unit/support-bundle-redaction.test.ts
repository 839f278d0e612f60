import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  connectionStringKey,
  isSecretName,
  REDACTED,
  Redactor,
  secretValuesIn,
} from '../../src/cli/support-bundle/redaction.js';

const DEVICE_KEY = 'c2VjcmV0a2V5MTIzNDU2Nzg=';
const SAS =
  'SharedAccessSignature sr=hub.example.net%2Fdevices%2Fedge-1&sig=AbCdEf0123456789%2BxyZ%3D&se=1999999999';

test('secret-looking names: passwords, keys, tokens, connection strings; not key names or auth types', () => {
  for (const name of [
    'password',
    'DB_PASSWORD',
    'registryPassword',
    'apiKey',
    'API_KEY',
    'primaryKey',
    'secondaryKey',
    'SharedAccessKey',
    'device_key',
    'symmetric_key',
    'SAS_TOKEN',
    'accessToken',
    'clientSecret',
    'connectionString',
    'EdgeHubConnectionString',
    'private_key',
    'sig',
  ])
    assert.ok(isSecretName(name), name);
  for (const name of [
    'key',
    'name',
    'value',
    'SharedAccessKeyName',
    'keyName',
    'authType',
    'IOTEDGE_MODULEID',
    'status',
    'passed',
    'signal',
    'description',
    'image',
  ])
    assert.ok(!isSecretName(name), name);
});

test('a SAS token in a log line loses everything after SharedAccessSignature', () => {
  const text = new Redactor().text(`connecting with ${SAS} now\n`);
  assert.equal(text, `connecting with SharedAccessSignature ${REDACTED} now\n`);
  assert.doesNotMatch(text, /AbCdEf/);
});

test('a sig= parameter alone (a logged URL) is redacted', () => {
  const text = new Redactor().text('GET /x?sr=a&sig=Zm9vYmFy%3D&se=1 200');
  assert.equal(text, `GET /x?sr=a&sig=${REDACTED}&se=1 200`);
});

test('connection strings keep their host and device and lose their key', () => {
  const text = new Redactor().text(
    `"HostName=hub.example.net;DeviceId=edge-1;SharedAccessKey=${DEVICE_KEY}" and AccountKey=abc/def==;x`,
  );
  assert.equal(
    text,
    `"HostName=hub.example.net;DeviceId=edge-1;SharedAccessKey=${REDACTED}" and AccountKey=${REDACTED};x`,
  );
});

test('PEM private keys go whole, certificates stay', () => {
  const pem =
    '-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n' +
    '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIsecret\nmore\n-----END EC PRIVATE KEY-----\n';
  const text = new Redactor().text(pem);
  assert.match(text, /MIIBcert/);
  assert.doesNotMatch(text, /MHcCAQEEIsecret|more/);
  assert.match(text, /-----BEGIN EC PRIVATE KEY-----\*\*\*-----END EC PRIVATE KEY-----/);
  // the same key inside JSON, with escaped newlines
  const json = new Redactor().text(
    JSON.stringify({ pem: '-----BEGIN PRIVATE KEY-----\nabcdef\n-----END PRIVATE KEY-----' }),
  );
  assert.doesNotMatch(json, /abcdef/);
});

test('NAME=value and NAME: value assignments of secret names; other assignments stay', () => {
  const text = new Redactor().text(
    'DB_PASSWORD=hunter2 PATH=/usr/bin\nAPI_TOKEN: tok-123\n["MY_SECRET=s3cr3t","LANG=C"]\n',
  );
  assert.equal(
    text,
    `DB_PASSWORD=${REDACTED} PATH=/usr/bin\nAPI_TOKEN: ${REDACTED}\n["MY_SECRET=${REDACTED}","LANG=C"]\n`,
  );
});

test('JSON text: secret fields and env pairs redacted, others kept', () => {
  const text = new Redactor().text(
    JSON.stringify({
      password: 'pw1',
      username: 'me',
      env: [
        { key: 'DB_PASSWORD', value: 'pw2' },
        { key: 'MODE', value: 'fast' },
      ],
    }),
  );
  const parsed = JSON.parse(text);
  assert.equal(parsed.password, REDACTED);
  assert.equal(parsed.username, 'me');
  assert.deepEqual(parsed.env, [
    { key: 'DB_PASSWORD', value: REDACTED },
    { key: 'MODE', value: 'fast' },
  ]);
});

test('json(): nested values, env pairs named by `name`, and strings holding tokens', () => {
  const text = new Redactor().json({
    registryCredentials: { acr: { address: 'r.example', username: 'u', password: 'hunter2-secret' } },
    Config: { Env: ['API_KEY=abcdef', 'HOME=/root'] },
    pairs: [{ name: 'CLIENT_SECRET', value: 'zzz' }],
    log: SAS,
  });
  const parsed = JSON.parse(text);
  assert.equal(parsed.registryCredentials.acr.password, REDACTED);
  assert.equal(parsed.registryCredentials.acr.username, 'u');
  assert.deepEqual(parsed.Config.Env, [`API_KEY=${REDACTED}`, 'HOME=/root']);
  assert.deepEqual(parsed.pairs, [{ name: 'CLIENT_SECRET', value: REDACTED }]);
  assert.equal(parsed.log, `SharedAccessSignature ${REDACTED}`);
  assert.ok(text.endsWith('}\n'));
});

test('known values are removed wherever they appear, JSON-escaped too, longest first', () => {
  const redactor = new Redactor(['plain-secret-1', 'we"ird\\value', 'abc']).with(['plain-secret-1-longer']);
  const text = redactor.text(
    `x plain-secret-1-longer y plain-secret-1 z ${JSON.stringify('we"ird\\value')} abc`,
  );
  assert.equal(text, `x ${REDACTED} y ${REDACTED} z "${REDACTED}" abc`);
});

test('user:password@ of URLs', () => {
  assert.equal(
    new Redactor().text('proxy http://user:p%40ss@proxy.local:3128 ok'),
    `proxy http://user:${REDACTED}@proxy.local:3128 ok`,
  );
});

test('secretValuesIn: env pairs, manifest env entries, secret-named strings, nested', () => {
  assert.deepEqual(
    secretValuesIn({
      modules: [
        {
          config: {
            env: [
              { key: 'DB_PASSWORD', value: 'a' },
              { key: 'MODE', value: 'b' },
              { key: 'IOTEDGE_MODULEID', value: 'c' },
            ],
          },
        },
      ],
      manifest: { env: { ApiKey: { value: 'd' }, PLAIN: { value: 'e' } } },
      registryCredentials: { acr: { username: 'u', password: 'f' } },
    }).sort(),
    ['a', 'd', 'f'],
  );
});

test('connectionStringKey: the whole key, padding included', () => {
  assert.equal(connectionStringKey(`HostName=h;DeviceId=d;SharedAccessKey=${DEVICE_KEY}`), DEVICE_KEY);
  assert.equal(connectionStringKey('HostName=h;DeviceId=d;x509=true'), undefined);
});
