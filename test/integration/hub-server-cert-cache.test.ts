import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import { loadEdgeCa } from '../../src/runtime/identity/certificates/edge-ca.js';
import {
  loadServerCertificate,
  saveServerCertificate,
} from '../../src/runtime/identity/certificates/server-cert-cache.js';
import { issueHubServerCertificate } from '../../src/runtime/identity/certificates/server-cert.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function setup() {
  const homedir = await mkdtemp(path.join(tmpdir(), 'iotedge-cert-cache-'));
  dirs.push(homedir);
  const ca = await loadEdgeCa({ homedir, certificates: undefined });
  const directory = path.join(homedir, 'hub');
  const issued = await issueHubServerCertificate(ca, { hostname: 'edge.example.net' });
  await saveServerCertificate(directory, issued);
  return { homedir, ca, directory, issued };
}

test('a saved server certificate is reused while it suits, with its key private', async () => {
  const { ca, directory, issued } = await setup();
  const loaded = await loadServerCertificate(directory, ca, 'edge.example.net', new Date());
  assert.equal(loaded?.certificatePem, issued.certificatePem);
  assert.equal(loaded?.privateKeyPem, issued.privateKeyPem);
  assert.equal(loaded?.renewAt.getTime(), issued.renewAt.getTime());
  assert.equal((await stat(path.join(directory, 'server.key.pem'))).mode & 0o777, 0o600);
});

test('it is not reused for another hostname, once renewal is due, or for another CA', async () => {
  const { ca, directory, issued } = await setup();
  assert.equal(await loadServerCertificate(directory, ca, 'other.example.net', new Date()), undefined);
  assert.equal(await loadServerCertificate(directory, ca, 'edge.example.net', issued.renewAt), undefined);
  const other = await setup();
  assert.equal(await loadServerCertificate(directory, other.ca, 'edge.example.net', new Date()), undefined);
});

test('damaged or mismatched files are ignored, not fatal', async () => {
  const { ca, directory } = await setup();
  const other = await setup();
  await writeFile(
    path.join(directory, 'server.key.pem'),
    await readFile(path.join(other.directory, 'server.key.pem')),
  );
  assert.equal(await loadServerCertificate(directory, ca, 'edge.example.net', new Date()), undefined);
  await writeFile(path.join(directory, 'server.cert.pem'), 'not a certificate');
  assert.equal(await loadServerCertificate(directory, ca, 'edge.example.net', new Date()), undefined);
  await rm(directory, { recursive: true });
  assert.equal(await loadServerCertificate(directory, ca, 'edge.example.net', new Date()), undefined);
});
