import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import { EdgeCaService } from '../../../src/runtime/daemon/edge-ca-service.js';
import type { HubServerCertificate } from '../../../src/runtime/identity/certificates/server-cert.js';
import { tempDirs } from '../../helpers/temp-dirs.js';

const tempDir = tempDirs('iotedge-edge-ca-');
const DAY = 24 * 3600 * 1000;

async function service(homedir: string, now?: () => Date) {
  const logged: string[] = [];
  const settings = { homedir, hostname: 'gateway.local', certificates: undefined };
  const created = await EdgeCaService.create({ settings, now, log: (line) => logged.push(line) });
  return { service: created, logged };
}

test('issues a server certificate for the hostname from the edge CA, saves it and logs it', async () => {
  const homedir = await tempDir();
  const { service: edgeCa, logged } = await service(homedir);
  try {
    const certificate = new X509Certificate(edgeCa.serverCertificate.certificatePem);
    assert.equal(certificate.checkHost('gateway.local'), 'gateway.local');
    const ca = await edgeCa.edgeCa();
    assert.ok(certificate.checkIssued(new X509Certificate(ca.certPem)));
    assert.equal(edgeCa.serverCertificate.trustBundlePem, ca.trustBundlePem);
    assert.match(logged.join('\n'), /^server certificate for gateway\.local valid until \d{4}-/m);
  } finally {
    edgeCa.close();
  }
  const { service: again } = await service(homedir);
  again.close();
  assert.equal(
    again.serverCertificate.certificatePem,
    edgeCa.serverCertificate.certificatePem,
    'a later start uses the saved certificate',
  );
});

test('a renewal tells the listeners of a new certificate only, until they stop listening', async () => {
  const homedir = await tempDir();
  const { service: edgeCa } = await service(homedir);
  try {
    const heard: HubServerCertificate[] = [];
    const stop = edgeCa.onServerCertificate((certificate) => heard.push(certificate));
    const first = edgeCa.serverCertificate;
    await edgeCa.renew();
    assert.equal(heard.length, 0, 'the saved certificate still suits: nothing new');
    assert.equal(edgeCa.serverCertificate.certificatePem, first.certificatePem);

    await rm(path.join(homedir, 'hub'), { recursive: true });
    await edgeCa.renew();
    assert.equal(heard.length, 1);
    assert.notEqual(heard[0]!.certificatePem, first.certificatePem);
    assert.equal(edgeCa.serverCertificate, heard[0]);

    stop();
    await rm(path.join(homedir, 'hub'), { recursive: true });
    await edgeCa.renew();
    assert.equal(heard.length, 1, 'a listener that stopped hears nothing');
  } finally {
    edgeCa.close();
  }
});

test('an edge CA asked for after its expiry is made again, with a new server certificate', async () => {
  const homedir = await tempDir();
  let now = new Date();
  const { service: edgeCa } = await service(homedir, () => now);
  try {
    const heard: HubServerCertificate[] = [];
    edgeCa.onServerCertificate((certificate) => heard.push(certificate));
    const before = await edgeCa.edgeCa();
    assert.equal(heard.length, 0);
    now = new Date(before.notAfter.getTime() + DAY);
    const after = await edgeCa.edgeCa();
    assert.notEqual(after.certPem, before.certPem);
    assert.ok(after.notAfter > now, 'the new CA is valid now');
    assert.equal(heard.length, 1, 'the hub is given a certificate from the new CA');
    assert.ok(new X509Certificate(heard[0]!.certificatePem).checkIssued(new X509Certificate(after.certPem)));
  } finally {
    edgeCa.close();
  }
});
