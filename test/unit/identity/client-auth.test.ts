import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  certificateThumbprints,
  matchesThumbprint,
  verifyClientChain,
} from '../../../src/runtime/identity/certificates/client-auth.js';
import { loadEdgeCa, type EdgeCa } from '../../../src/runtime/identity/certificates/edge-ca.js';
import { issueModuleIdentityCertificate } from '../../../src/runtime/identity/certificates/identity-cert.js';
import type { IssuedCertificate } from '../../../src/runtime/identity/certificates/leaf.js';
import { issueHubServerCertificate } from '../../../src/runtime/identity/certificates/server-cert.js';
import { createCa, createLeaf, pemBundle } from '../../helpers/cert-factory.js';
import { testPki } from '../../helpers/certs.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date();

let home: string;
let ca: EdgeCa;
let otherCa: EdgeCa;
let client: IssuedCertificate;
before(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'iotedge-client-auth-'));
  ca = await loadEdgeCa({ homedir: path.join(home, 'a') }, { now: NOW });
  otherCa = await loadEdgeCa({ homedir: path.join(home, 'b') }, { now: NOW });
  client = await issueModuleIdentityCertificate(ca, {
    iothubHostname: 'hub',
    deviceId: 'd',
    moduleId: 'm',
    now: NOW,
  });
});
after(() => rm(home, { recursive: true, force: true }));

test('thumbprints: SHA-256 and SHA-1 of the DER bytes, uppercase hex, from PEM or DER alike', () => {
  const der = new X509Certificate(client.certificatePem).raw;
  const expected = {
    sha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
    sha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
  };
  assert.deepEqual(certificateThumbprints(client.certificatePem), expected);
  assert.deepEqual(certificateThumbprints(der), expected);
  assert.match(expected.sha256, /^[0-9A-F]{64}$/);
});

test('matchesThumbprint: either thumbprint, any case, with or without colons', () => {
  const { sha256, sha1 } = certificateThumbprints(client.certificatePem);
  assert.ok(matchesThumbprint(client.certificatePem, [undefined, sha256]));
  assert.ok(matchesThumbprint(client.certificatePem, [sha1.toLowerCase()]));
  assert.ok(matchesThumbprint(client.certificatePem, [sha256.match(/../g)?.join(':')]));
  assert.ok(!matchesThumbprint(client.certificatePem, ['', undefined, 'AB'.repeat(32)]));
});

test('verifyClientChain: leaf + device CA presented, root trusted: accepted', () => {
  assert.deepEqual(verifyClientChain([client.chainPem], [ca.trustBundlePem], { now: NOW }), { ok: true });
  assert.deepEqual(
    verifyClientChain([client.certificatePem, ca.certPem], [ca.trustBundlePem], {
      now: NOW,
      commonName: 'm',
    }),
    { ok: true },
  );
});

test('verifyClientChain: the leaf alone is enough when its issuer is trusted', () => {
  assert.deepEqual(verifyClientChain([client.certificatePem], [ca.certPem], { now: NOW }), { ok: true });
});

test('verifyClientChain: refusals name the reason and no key', () => {
  const cases: [ReturnType<typeof verifyClientChain>, RegExp][] = [
    [
      verifyClientChain([client.certificatePem], [ca.trustBundlePem], { now: NOW }),
      /'m' is not issued by a trusted CA/,
    ],
    [
      verifyClientChain([client.chainPem], [otherCa.trustBundlePem], { now: NOW }),
      /not issued by a trusted CA/,
    ],
    [verifyClientChain([client.chainPem], [testPki().ca.cert], { now: NOW }), /not issued by a trusted CA/],
    [verifyClientChain([], [ca.trustBundlePem], { now: NOW }), /no client certificate/],
    [
      verifyClientChain(['garbage'], [ca.trustBundlePem], { now: NOW }),
      /unreadable certificate: not a PEM certificate/,
    ],
    [
      verifyClientChain([client.chainPem], [ca.trustBundlePem], {
        now: new Date(client.notAfter.getTime() + DAY),
      }),
      /'m' expired at/,
    ],
    [
      verifyClientChain([client.chainPem], [ca.trustBundlePem], {
        now: new Date(client.notBefore.getTime() - DAY),
      }),
      /'m' is not valid before/,
    ],
    [
      verifyClientChain([client.chainPem], [ca.trustBundlePem], { now: NOW, commonName: 'other' }),
      /does not name 'other'/,
    ],
    [verifyClientChain([ca.chainPem], [ca.trustBundlePem], { now: NOW }), /is a CA certificate/],
  ];
  for (const [result, reason] of cases) {
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.reason : '', reason);
    assert.ok(!JSON.stringify(result).includes('PRIVATE'));
  }
});

test('verifyClientChain: a server certificate is not a client certificate', async () => {
  const server = await issueHubServerCertificate(ca, { hostname: 'edge', now: NOW });
  const result = verifyClientChain([server.chainPem], [ca.trustBundlePem], { now: NOW });
  assert.deepEqual(result, {
    ok: false,
    reason: "certificate 'edge' is not valid for client authentication",
  });
});

test('verifyClientChain: RSA chains made by another tool, through an intermediate, in any order', () => {
  const from = new Date(NOW.getTime() - DAY);
  const to = new Date(NOW.getTime() + DAY);
  const root = createCa('Device Root', from, to);
  const intermediate = createLeaf(root, 'Device Intermediate', from, to, true);
  const device = createLeaf(intermediate, 'child-device', from, to);
  const ok = verifyClientChain([device.certPem, intermediate.certPem], [root.certPem], {
    now: NOW,
    commonName: 'child-device',
  });
  assert.deepEqual(ok, { ok: true });
  const bundled = verifyClientChain([pemBundle(device, intermediate)], [testPki().ca.cert, root.certPem], {
    now: NOW,
  });
  assert.deepEqual(bundled, { ok: true });
  const missing = verifyClientChain([device.certPem], [root.certPem], { now: NOW });
  assert.deepEqual(missing, {
    ok: false,
    reason: "certificate 'child-device' is not issued by a trusted CA",
  });
  // A leaf cannot stand in for an intermediate, even if names line up.
  const fake = createLeaf(root, 'Device Intermediate', from, to);
  const forged = verifyClientChain([device.certPem, fake.certPem], [root.certPem], { now: NOW });
  assert.equal(forged.ok, false);
});

test('verifyClientChain: DER buffers, as a TLS socket gives them, work too', () => {
  const der = new X509Certificate(client.certificatePem).raw;
  const caDer = new X509Certificate(ca.certPem).raw;
  assert.deepEqual(verifyClientChain([der, caDer], [ca.trustBundlePem], { now: NOW }), { ok: true });
  const junk = verifyClientChain([Buffer.from('junk')], [ca.trustBundlePem], { now: NOW });
  assert.equal(junk.ok, false);
});
