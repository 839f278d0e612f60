import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import azureIotDevice from 'azure-iot-device';

import {
  buildSasToken,
  parseSasToken,
  SasTokenError,
  verifySasToken,
  type SasVerifyOptions,
} from '../../../src/runtime/identity/sas.js';

const HUB = 'contoso-hub.azure-devices.net';
const EDGE = 'edge-gw.local';
const PRIMARY = Buffer.alloc(32, 1).toString('base64');
const SECONDARY = Buffer.alloc(32, 2).toString('base64');
const OTHER = Buffer.alloc(32, 3).toString('base64');
const NOW = new Date('2024-06-01T12:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const HOUR = 3600;

function options(overrides: Partial<SasVerifyOptions> = {}): SasVerifyOptions {
  return {
    identity: { deviceId: 'edge1', moduleId: 'filter' },
    keys: [PRIMARY, SECONDARY],
    hostnames: [HUB, EDGE],
    now: NOW,
    ...overrides,
  };
}

const moduleToken = (
  key = PRIMARY,
  expiry = NOW_S + HOUR,
  audience = `${HUB}/devices/edge1/modules/filter`,
) => buildSasToken({ audience, key, expiry });

/** Every secret a failure message must not repeat: keys, and the signature in raw and encoded form. */
function assertNoSecrets(text: string, token: string): void {
  for (const key of [PRIMARY, SECONDARY, OTHER]) assert.ok(!text.includes(key), `leaks a key: ${text}`);
  const encodedSig = /sig=([^&]*)/.exec(token)?.[1];
  if (encodedSig !== undefined && encodedSig !== '') {
    assert.ok(!text.includes(encodedSig), `leaks the signature: ${text}`);
    const decoded = decodeURIComponent(encodedSig.replace(/%(?![0-9A-F]{2})/gi, '%25'));
    assert.ok(!text.includes(decoded), `leaks the signature: ${text}`);
  }
}

test('buildSasToken: the documented shape, HMAC over the encoded sr, a newline and se', () => {
  const token = buildSasToken({ audience: `${HUB}/devices/d1`, key: PRIMARY, expiry: 1_700_000_000 });
  const sr = encodeURIComponent(`${HUB}/devices/d1`);
  const sig = createHmac('sha256', Buffer.from(PRIMARY, 'base64'))
    .update(`${sr}\n1700000000`)
    .digest('base64');
  assert.equal(token, `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=1700000000`);
  const named = buildSasToken({ audience: HUB, key: PRIMARY, expiry: 1, keyName: 'iothubowner' });
  assert.match(named, /&se=1&skn=iothubowner$/);
});

test('buildSasToken agrees with the Azure IoT device SDK byte for byte', () => {
  const sdk = azureIotDevice.SharedAccessSignature.create(HUB, 'edge1/modules/filter', PRIMARY, NOW_S + HOUR);
  assert.equal(moduleToken(), sdk.toString());
});

test('verifySasToken: a good module token, signed with the primary key, is accepted', () => {
  assert.deepEqual(verifySasToken(moduleToken(), options()), { ok: true, keyIndex: 0 });
});

test('verifySasToken: the secondary key is accepted too, and reported as such', () => {
  assert.deepEqual(verifySasToken(moduleToken(SECONDARY), options()), { ok: true, keyIndex: 1 });
});

test('verifySasToken: tokens made by the SDK verify, for devices and modules', () => {
  const device = azureIotDevice.SharedAccessSignature.create(HUB, 'edge1', PRIMARY, NOW_S + HOUR).toString();
  assert.equal(verifySasToken(device, options({ identity: { deviceId: 'edge1' } })).ok, true);
  const module = azureIotDevice.SharedAccessSignature.create(
    HUB,
    'edge1/modules/filter',
    SECONDARY,
    NOW_S + 60,
  );
  assert.equal(verifySasToken(module.toString(), options()).ok, true);
});

test('verifySasToken: a wrong key fails on the signature, without naming the key or signature', () => {
  const token = moduleToken(OTHER);
  const result = verifySasToken(token, options());
  assert.equal(result.ok, false);
  assert.ok(!result.ok && result.code === 'signature');
  assertNoSecrets(JSON.stringify(result), token);
});

test('verifySasToken: no keys at all means no match', () => {
  const result = verifySasToken(moduleToken(), options({ keys: [] }));
  assert.ok(!result.ok && result.code === 'signature');
});

test('verifySasToken: expiry is checked against the injected clock, se itself already expired', () => {
  const atExpiry = verifySasToken(moduleToken(PRIMARY, NOW_S), options());
  assert.ok(!atExpiry.ok && atExpiry.code === 'expired');
  assert.match(atExpiry.reason, /expired at 2024-06-01T12:00:00\.000Z/);
  assert.equal(verifySasToken(moduleToken(PRIMARY, NOW_S + 1), options()).ok, true);
  const past = verifySasToken(moduleToken(PRIMARY, NOW_S - HOUR), options());
  assert.ok(!past.ok && past.code === 'expired');
  const skewed = verifySasToken(moduleToken(PRIMARY, NOW_S - 60), options({ clockSkewSeconds: 300 }));
  assert.equal(skewed.ok, true);
});

test('verifySasToken: the audience host may be the hub or the edge hostname, in any case', () => {
  for (const host of [HUB, EDGE, HUB.toUpperCase(), 'Edge-GW.Local']) {
    const result = verifySasToken(
      moduleToken(PRIMARY, NOW_S + HOUR, `${host}/devices/edge1/modules/filter`),
      options(),
    );
    assert.equal(result.ok, true, host);
  }
  const other = moduleToken(PRIMARY, NOW_S + HOUR, 'evil.example.net/devices/edge1/modules/filter');
  const result = verifySasToken(other, options());
  assert.ok(!result.ok && result.code === 'audience');
  assert.match(result.reason, /evil\.example\.net/);
});

test('verifySasToken: a module token for another module, or another device, is refused', () => {
  const cases: [string, RegExp][] = [
    [`${HUB}/devices/edge1/modules/other`, /module 'other', not module 'filter'/],
    [`${HUB}/devices/edge2/modules/filter`, /device 'edge2', not 'edge1'/],
    [`${HUB}/devices/EDGE1/modules/filter`, /device 'EDGE1'/],
    [`${HUB}/devices/edge1/modules/Filter`, /module 'Filter'/],
  ];
  for (const [audience, reason] of cases) {
    const result = verifySasToken(moduleToken(PRIMARY, NOW_S + HOUR, audience), options());
    assert.ok(!result.ok && result.code === 'audience', audience);
    assert.match(result.reason, reason);
  }
});

test('verifySasToken: a device claims no module, so a module audience is refused', () => {
  const result = verifySasToken(moduleToken(), options({ identity: { deviceId: 'edge1' } }));
  assert.ok(!result.ok && result.code === 'audience');
  assert.match(result.reason, /not the device itself/);
});

test('verifySasToken: a device-level audience is accepted for a module of that device (edgeHub rule)', () => {
  const token = moduleToken(PRIMARY, NOW_S + HOUR, `${HUB}/devices/edge1`);
  assert.equal(verifySasToken(token, options()).ok, true);
});

test('verifySasToken: ids the SDK encoded inside sr are matched once decoded', () => {
  const identity = { deviceId: 'dev#1', moduleId: 'm (a)' };
  const audience = `${HUB}/devices/${encodeURIComponent('dev#1')}/modules/${encodeURIComponent('m (a)')}`;
  assert.equal(verifySasToken(moduleToken(PRIMARY, NOW_S + HOUR, audience), options({ identity })).ok, true);
  const sdk = azureIotDevice.SharedAccessSignature.create(HUB, 'dev#1/modules/m (a)', PRIMARY, NOW_S + HOUR);
  assert.equal(verifySasToken(sdk.toString(), options({ identity })).ok, true);
});

test('verifySasToken: audiences of the wrong shape are refused', () => {
  for (const audience of [
    HUB,
    `${HUB}/devices`,
    `${HUB}/things/edge1`,
    `${HUB}/devices/edge1/modules`,
    `/devices/edge1`,
  ]) {
    const result = verifySasToken(moduleToken(PRIMARY, NOW_S + HOUR, audience), options());
    assert.ok(!result.ok && result.code === 'audience', audience);
  }
});

test('verifySasToken: the signature covers sr and se as sent; tampering with either fails', () => {
  const token = moduleToken();
  const longer = token.replace(/se=\d+/, `se=${NOW_S + 10 * HOUR}`);
  const result = verifySasToken(longer, options());
  assert.ok(!result.ok && result.code === 'signature');
  const retargeted = token.replace('filter', 'other');
  const second = verifySasToken(retargeted, options({ identity: { deviceId: 'edge1', moduleId: 'other' } }));
  assert.ok(!second.ok && second.code === 'signature');
});

test('parseSasToken: fields in any order, names case-insensitive, unknown fields ignored', () => {
  const parsed = parseSasToken('SharedAccessSignature se=17&SIG=YWJj&foo=bar&sr=h%2Fdevices%2Fd&skn=pol');
  assert.equal(parsed.audience, 'h/devices/d');
  assert.equal(parsed.encodedAudience, 'h%2Fdevices%2Fd');
  assert.equal(parsed.expiry, 17);
  assert.equal(parsed.keyName, 'pol');
});

test('parseSasToken and verifySasToken: malformed strings give typed errors that never echo the signature', () => {
  const sig = encodeURIComponent(Buffer.alloc(32, 9).toString('base64'));
  const cases: [string, string][] = [
    ['', 'empty'],
    ['   ', 'empty'],
    [`sr=h%2Fdevices%2Fd&sig=${sig}&se=10`, 'prefix'],
    [`Bearer sr=h&sig=${sig}&se=10`, 'prefix'],
    [`SharedAccessSignature sr=h%2Fdevices%2Fd&${sig}&se=10`, 'field'],
    [`SharedAccessSignature sr=h%2Fdevices%2Fd&se=10`, 'missing-field'],
    [`SharedAccessSignature sig=${sig}&se=10`, 'missing-field'],
    [`SharedAccessSignature sr=h%2Fdevices%2Fd&sig=${sig}`, 'missing-field'],
    [`SharedAccessSignature sr=h%2Fdevices%2Fd&sig=&se=10`, 'missing-field'],
    [`SharedAccessSignature sr=h%2Fdevices%2Fd&sig=${sig}&se=10&sig=${sig}`, 'duplicate-field'],
    [`SharedAccessSignature sr=h%2Fdevices%2Fd&sig=${sig}&se=soon`, 'value'],
    [`SharedAccessSignature sr=h%2Fdevices%2Fd&sig=${sig}&se=-5`, 'value'],
    [`SharedAccessSignature sr=h%ZZ&sig=${sig}&se=10`, 'value'],
    [`SharedAccessSignature sr=h%2Fdevices%2Fd&sig=${sig}%ZZ&se=10`, 'value'],
    [`SharedAccessSignature sr=h%2Fdevices%2Fd&sig=not*base64&se=10`, 'value'],
  ];
  for (const [token, code] of cases) {
    assert.throws(
      () => parseSasToken(token),
      (error: unknown) => {
        assert.ok(error instanceof SasTokenError, token);
        assert.equal(error.code, code, token);
        assertNoSecrets(error.message, token);
        assert.ok(!error.message.includes('not*base64'));
        return true;
      },
    );
    const result = verifySasToken(token, options());
    assert.ok(!result.ok && result.code === 'malformed', token);
    assertNoSecrets(result.reason, token);
  }
});

test('parseSasToken: a non-string is reported as empty, not a crash', () => {
  assert.throws(() => parseSasToken(undefined as unknown as string), SasTokenError);
});

test('verifySasToken accepts an already parsed token', () => {
  assert.equal(verifySasToken(parseSasToken(moduleToken()), options()).ok, true);
});

test('a key that is not base64 is a TypeError that does not repeat it', () => {
  assert.throws(
    () => buildSasToken({ audience: HUB, key: 'not a key!', expiry: 1 }),
    (error: unknown) => error instanceof TypeError && !error.message.includes('not a key!'),
  );
  assert.throws(
    () => verifySasToken(moduleToken(), options({ keys: ['s3cr3t!'] })),
    (error: unknown) => {
      return error instanceof TypeError && error.message === 'SAS key 1 is not base64';
    },
  );
});

test('unpadded base64 keys (connection strings drop the padding) sign the same as padded ones', () => {
  const unpadded = PRIMARY.replace(/=+$/, '');
  assert.notEqual(unpadded, PRIMARY);
  assert.equal(moduleToken(unpadded), moduleToken(PRIMARY));
});
