import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { loadEdgeCa, type EdgeCa } from '../../../src/runtime/identity/certificates/edge-ca.js';
import { CertificateError } from '../../../src/runtime/identity/certificates/errors.js';
import { issueModuleIdentityCertificate } from '../../../src/runtime/identity/certificates/identity-cert.js';
import { issueLeaf } from '../../../src/runtime/identity/certificates/leaf.js';
import { renewAt } from '../../../src/runtime/identity/certificates/renewal.js';
import { issueHubServerCertificate } from '../../../src/runtime/identity/certificates/server-cert.js';

const DAY = 24 * 60 * 60 * 1000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const NOW = new Date();

let home: string;
let ca: EdgeCa;
before(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'iotedge-issued-'));
  ca = await loadEdgeCa({ homedir: home }, { now: NOW });
});
after(() => rm(home, { recursive: true, force: true }));

const parse = (pem: string) => new X509Certificate(pem);
const deviceCa = () => parse(ca.certPem);

test('renewAt: 80% of the lifetime by default, any fraction on request, pure', () => {
  const from = new Date('2024-01-01T00:00:00Z');
  const to = new Date('2024-01-11T00:00:00Z');
  assert.equal(renewAt(from, to).toISOString(), '2024-01-09T00:00:00.000Z');
  assert.equal(renewAt(from, to, 0.5).toISOString(), '2024-01-06T00:00:00.000Z');
  assert.equal(renewAt(to, from).toISOString(), to.toISOString(), 'an inverted window renews at once');
});

describe('hub server certificate', () => {
  test('CN = hostname; SAN DNS hostname + localhost, IP 127.0.0.1 + ::1; serverAuth; issued by the device CA', async () => {
    const issued = await issueHubServerCertificate(ca, { hostname: 'Edge-GW.Example.NET', now: NOW });
    const leaf = parse(issued.certificatePem);
    assert.equal(leaf.subject, 'CN=edge-gw.example.net');
    assert.equal(
      leaf.subjectAltName,
      'DNS:edge-gw.example.net, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    assert.deepEqual(leaf.keyUsage, [SERVER_AUTH]);
    assert.equal(leaf.ca, false);
    assert.ok(leaf.checkIssued(deviceCa()) && leaf.verify(deviceCa().publicKey));
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(issued.chainPem, issued.certificatePem + ca.chainPem);
    assert.equal(issued.trustBundlePem, ca.trustBundlePem);
    assert.match(issued.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(issued.privateKeyPem)));
  });

  test('validity: 30 days by default, starting a little in the past, renewed at 80%', async () => {
    const issued = await issueHubServerCertificate(ca, { hostname: 'edge', now: NOW });
    assert.ok(
      issued.notBefore.getTime() <= NOW.getTime() && issued.notBefore.getTime() >= NOW.getTime() - 6 * 60_000,
    );
    assert.ok(Math.abs(issued.notAfter.getTime() - (NOW.getTime() + 30 * DAY)) < 1000);
    assert.equal(issued.renewAt.getTime(), renewAt(issued.notBefore, issued.notAfter).getTime());
    assert.equal(issued.notAfter.getTime(), new Date(parse(issued.certificatePem).validTo).getTime());
  });

  test('never outlasts the CA and never starts before it', async () => {
    const late = new Date(ca.notAfter.getTime() - 2 * DAY);
    const issued = await issueHubServerCertificate(ca, { hostname: 'edge', now: late, lifetimeDays: 30 });
    assert.ok(issued.notAfter.getTime() <= ca.notAfter.getTime());
    assert.ok(issued.notAfter.getTime() > ca.notAfter.getTime() - 1000);
    const early = await issueHubServerCertificate(ca, {
      hostname: 'edge',
      now: new Date(ca.notBefore.getTime() + 1000),
    });
    assert.ok(early.notBefore.getTime() >= ca.notBefore.getTime());
    const long = await issueHubServerCertificate(ca, { hostname: 'edge', now: NOW, lifetimeDays: 10_000 });
    assert.ok(long.notAfter.getTime() <= ca.notAfter.getTime());
  });

  test('an expired CA cannot issue; the error says so', async () => {
    await assert.rejects(
      issueHubServerCertificate(ca, { hostname: 'edge', now: new Date(ca.notAfter.getTime() + 1000) }),
      (error) =>
        error instanceof CertificateError && error.code === 'expired' && /expired at/.test(error.message),
    );
  });

  test('an IP hostname goes into an IP SAN', async () => {
    const issued = await issueHubServerCertificate(ca, { hostname: '192.0.2.7', now: NOW });
    assert.equal(
      parse(issued.certificatePem).subjectAltName,
      'DNS:localhost, IP Address:192.0.2.7, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
  });

  test('a hostname longer than a CN may be still works: the SAN carries it', async () => {
    const hostname = `${'a'.repeat(40)}.${'b'.repeat(40)}.example.net`;
    const issued = await issueHubServerCertificate(ca, { hostname, now: NOW, extraDnsNames: ['edgehub'] });
    const leaf = parse(issued.certificatePem);
    assert.equal(leaf.subject, `CN=${'a'.repeat(40)}`);
    assert.ok(leaf.subjectAltName?.startsWith(`DNS:${hostname}, DNS:localhost, DNS:edgehub,`));
    assert.equal(leaf.checkHost(hostname), hostname);
  });
});

describe('module identity certificate', () => {
  test('CN = module id, SAN URI azureiot://hub/devices/d/modules/m, clientAuth only', async () => {
    const issued = await issueModuleIdentityCertificate(ca, {
      iothubHostname: 'hub.azure-devices.net',
      deviceId: 'edge1',
      moduleId: 'filter',
      now: NOW,
    });
    const leaf = parse(issued.certificatePem);
    assert.equal(leaf.subject, 'CN=filter');
    assert.equal(leaf.subjectAltName, 'URI:azureiot://hub.azure-devices.net/devices/edge1/modules/filter');
    assert.deepEqual(leaf.keyUsage, [CLIENT_AUTH]);
    assert.ok(leaf.verify(deviceCa().publicKey));
    assert.ok(
      Math.abs(issued.notAfter.getTime() - Math.min(NOW.getTime() + 90 * DAY, ca.notAfter.getTime())) < 1000,
    );
  });

  test('honours a requested expiration and rejects one in the past', async () => {
    const expiration = new Date(NOW.getTime() + 3 * DAY);
    const issued = await issueModuleIdentityCertificate(ca, {
      iothubHostname: 'hub',
      deviceId: 'edge1',
      moduleId: 'filter',
      expiration,
      now: NOW,
    });
    assert.equal(issued.notAfter.getTime(), Math.floor(expiration.getTime() / 1000) * 1000);
    await assert.rejects(
      issueModuleIdentityCertificate(ca, {
        iothubHostname: 'hub',
        deviceId: 'edge1',
        moduleId: 'filter',
        expiration: new Date(NOW.getTime() - 1000),
        now: NOW,
      }),
      { name: 'CertificateError', message: 'the requested expiration is not in the future' },
    );
  });

  test('ids with URI-reserved characters are percent-encoded in the SAN', async () => {
    const issued = await issueModuleIdentityCertificate(ca, {
      iothubHostname: 'hub',
      deviceId: 'edge#1',
      moduleId: 'm?x',
      now: NOW,
    });
    assert.equal(
      parse(issued.certificatePem).subjectAltName,
      'URI:azureiot://hub/devices/edge%231/modules/m%3Fx',
    );
  });

  test('an empty common name is refused', async () => {
    await assert.rejects(
      issueLeaf(ca, { commonName: ' ', profile: 'server', now: NOW, maxLifetimeMs: DAY }),
      { name: 'CertificateError', message: 'the common name is empty' },
    );
  });
});
