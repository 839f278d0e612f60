import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import { deriveModuleKey, newGenerationId, workloadSign } from '../../../src/runtime/identity/module-keys.js';
import { buildSasToken, verifySasToken } from '../../../src/runtime/identity/sas.js';

const DEVICE_KEY = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
const GEN_ID = '637155427093658574';

/** HMAC-SHA256 by the openssl tool, an implementation independent of node:crypto's API use here. */
function opensslHmac(key: Buffer, data: Buffer): string {
  const out = execFileSync(
    'openssl',
    ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${key.toString('hex')}`, '-binary'],
    {
      input: data,
    },
  );
  return out.toString('base64');
}

test('deriveModuleKey: HMAC-SHA256(device key, moduleId + keyId + generationId), base64', () => {
  const expected = opensslHmac(Buffer.from(DEVICE_KEY, 'base64'), Buffer.from(`filterprimary${GEN_ID}`));
  assert.equal(deriveModuleKey(DEVICE_KEY, 'filter', 'primary', GEN_ID), expected);
});

test('deriveModuleKey: primary and secondary, modules and generations all differ', () => {
  const keys = new Set([
    deriveModuleKey(DEVICE_KEY, 'filter', 'primary', GEN_ID),
    deriveModuleKey(DEVICE_KEY, 'filter', 'secondary', GEN_ID),
    deriveModuleKey(DEVICE_KEY, 'sensor', 'primary', GEN_ID),
    deriveModuleKey(DEVICE_KEY, 'filter', 'primary', '637155427093658575'),
  ]);
  assert.equal(keys.size, 4);
  assert.equal(Buffer.from([...keys][0], 'base64').length, 32);
});

test('deriveModuleKey accepts the unpadded device key of a connection string', () => {
  const unpadded = DEVICE_KEY.replace(/=+$/, '');
  assert.equal(
    deriveModuleKey(unpadded, 'm', 'primary', GEN_ID),
    deriveModuleKey(DEVICE_KEY, 'm', 'primary', GEN_ID),
  );
  assert.throws(() => deriveModuleKey('not base64!', 'm', 'primary', GEN_ID), {
    name: 'TypeError',
    message: 'device key is not base64',
  });
});

test('workloadSign: HMAC-SHA256(module key, data) as the workload API returns it', () => {
  const data = Buffer.from('some bytes to sign');
  const moduleKey = Buffer.from(deriveModuleKey(DEVICE_KEY, 'filter', 'primary', GEN_ID), 'base64');
  assert.equal(workloadSign(DEVICE_KEY, 'filter', 'primary', GEN_ID, data), opensslHmac(moduleKey, data));
});

test('a SAS token signed through the workload API verifies against the derived module key', () => {
  // What the SDK's edge authentication provider does: ask the workload API to sign `sr\nse`.
  const sr = encodeURIComponent('hub.azure-devices.net/devices/edge1/modules/filter');
  const se = 1_800_000_000;
  const digest = workloadSign(DEVICE_KEY, 'filter', 'primary', GEN_ID, Buffer.from(`${sr}\n${se}`));
  const token = `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(digest)}&se=${se}`;
  const moduleKey = deriveModuleKey(DEVICE_KEY, 'filter', 'primary', GEN_ID);
  assert.equal(
    token,
    buildSasToken({
      audience: 'hub.azure-devices.net/devices/edge1/modules/filter',
      key: moduleKey,
      expiry: se,
    }),
  );
  const result = verifySasToken(token, {
    identity: { deviceId: 'edge1', moduleId: 'filter' },
    keys: [moduleKey, deriveModuleKey(DEVICE_KEY, 'filter', 'secondary', GEN_ID)],
    hostnames: ['hub.azure-devices.net'],
    now: new Date(1_700_000_000_000),
  });
  assert.deepEqual(result, { ok: true, keyIndex: 0 });
});

test('newGenerationId: .NET ticks of the creation time, with random sub-millisecond digits', () => {
  // 2020-01-23T10:05:09.365Z in ticks is 637153707093650000.
  const at = new Date('2020-01-23T10:05:09.365Z');
  assert.equal(
    newGenerationId(at, () => 0),
    '637153707093650000',
  );
  assert.equal(
    newGenerationId(at, () => 9_999),
    '637153707093659999',
  );
  assert.match(newGenerationId(new Date()), /^\d{18}$/);
});
