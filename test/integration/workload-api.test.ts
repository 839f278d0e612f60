import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { loadEdgeCa, type EdgeCa } from '../../src/runtime/identity/certificates/edge-ca.js';
import { deriveModuleKey } from '../../src/runtime/identity/module-keys.js';
import { buildSasToken, verifySasToken } from '../../src/runtime/identity/sas.js';
import { WorkloadServers } from '../../src/runtime/workload/workload-server.js';

const DEVICE_KEY = Buffer.from('a device key of thirty-two bytes').toString('base64');
const GENERATION = '637155427093658574';
let homedir = '';
let ca: EdgeCa;
let servers: WorkloadServers;
const logged: string[] = [];

before(async () => {
  homedir = await mkdtemp(path.join(tmpdir(), 'iotedge-workload-'));
  ca = await loadEdgeCa({ homedir, certificates: undefined });
  servers = new WorkloadServers(
    homedir,
    {
      deviceId: 'dev1',
      iothubHostname: 'hub.example.net',
      deviceKey: () => DEVICE_KEY,
      generationId: async (module) => (module === 'mod1' ? GENERATION : undefined),
      edgeCa: () => Promise.resolve(ca),
      now: () => new Date(),
    },
    (line) => logged.push(line),
  );
  await servers.ensure('mod1');
  await servers.ensure('other');
});

after(async () => {
  await servers.close();
  await rm(homedir, { recursive: true, force: true });
});

function call(module: string, method: string, route: string, body?: unknown) {
  return new Promise<{ status: number; type: string; json: Record<string, unknown> }>((resolve, reject) => {
    const request = http.request(
      {
        socketPath: servers.socketPath(module),
        method,
        path: route,
        headers: { 'Content-Type': 'application/json' },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            type: String(response.headers['content-type']),
            json: JSON.parse(text) as Record<string, unknown>,
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test('sign gives the HMAC of the module key, so the token verifies against the derived key', async () => {
  const audience = 'hub.example.net/devices/dev1/modules/mod1';
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  const data = Buffer.from(`${encodeURIComponent(audience)}\n${expiry}`).toString('base64');
  const reply = await call('mod1', 'POST', `/modules/mod1/genid/${GENERATION}/sign?api-version=2018-06-28`, {
    keyId: 'primary',
    algo: 'HMACSHA256',
    data,
  });
  assert.equal(reply.status, 200);
  assert.match(reply.type, /application\/json/);
  const moduleKey = deriveModuleKey(DEVICE_KEY, 'mod1', 'primary', GENERATION);
  const expected = buildSasToken({ audience, key: moduleKey, expiry });
  const token = `SharedAccessSignature sr=${encodeURIComponent(audience)}&sig=${encodeURIComponent(String(reply.json.digest))}&se=${expiry}`;
  assert.equal(token, expected);
  const verified = verifySasToken(token, {
    identity: { deviceId: 'dev1', moduleId: 'mod1' },
    keys: [moduleKey],
    hostnames: ['hub.example.net'],
    now: new Date(),
  });
  assert.equal(verified.ok, true);
});

test('a module cannot sign or get certificates for another module (404), nor with bad input (400)', async () => {
  const sign = { keyId: 'primary', algo: 'HMACSHA256', data: 'YQ==' };
  const foreign = await call(
    'other',
    'POST',
    `/modules/mod1/genid/${GENERATION}/sign?api-version=2018-06-28`,
    sign,
  );
  assert.equal(foreign.status, 404);
  assert.equal(foreign.json.message, 'Module not found: mod1');
  const identity = await call(
    'other',
    'POST',
    '/modules/mod1/certificate/identity?api-version=2019-01-30',
    {},
  );
  assert.equal(identity.status, 404);
  const badAlgo = await call(
    'mod1',
    'POST',
    `/modules/mod1/genid/${GENERATION}/sign?api-version=2018-06-28`,
    {
      ...sign,
      algo: 'MD5',
    },
  );
  assert.equal(badAlgo.status, 400);
  const staleGeneration = await call(
    'mod1',
    'POST',
    '/modules/mod1/genid/637000000000000000/sign?api-version=2018-06-28',
    sign,
  );
  assert.equal(staleGeneration.status, 404, 'a generation id that is not the current one signs nothing');
  const noVersion = await call('mod1', 'GET', '/trust-bundle');
  assert.equal(noVersion.status, 400);
  const pastExpiry = await call(
    'mod1',
    'POST',
    `/modules/mod1/genid/${GENERATION}/certificate/server?api-version=2019-01-30`,
    { commonName: 'mod1', expiration: '2001-01-01T00:00:00Z' },
  );
  assert.equal(pastExpiry.status, 400);
  assert.equal(pastExpiry.json.message, 'Request body is malformed');
});

test('trust bundle, server and identity certificates come from the edge CA', async () => {
  const bundle = await call('mod1', 'GET', '/trust-bundle?api-version=2018-06-28');
  assert.equal(bundle.status, 200);
  assert.equal(bundle.json.certificate, ca.trustBundlePem);

  const expiration = new Date(Date.now() + 24 * 3600 * 1000).toISOString();
  const server = await call(
    'mod1',
    'POST',
    `/modules/mod1/genid/${GENERATION}/certificate/server?api-version=2019-01-30`,
    {
      commonName: 'mod1.local',
      expiration,
    },
  );
  assert.equal(server.status, 201);
  assert.equal((server.json.privateKey as { type: string }).type, 'key');
  const leaf = new X509Certificate(String(server.json.certificate));
  assert.match(leaf.subject, /CN=mod1\.local/);
  assert.match(String(leaf.subjectAltName), /DNS:mod1\.local/);
  assert.ok(leaf.checkIssued(new X509Certificate(ca.certPem)));
  assert.ok(new Date(leaf.validTo).getTime() <= Date.parse(expiration));

  const identity = await call(
    'mod1',
    'POST',
    '/modules/mod1/certificate/identity?api-version=2019-01-30',
    {},
  );
  assert.equal(identity.status, 201);
  const client = new X509Certificate(String(identity.json.certificate));
  assert.match(client.subject, /CN=mod1/);
  assert.match(
    String(client.subjectAltName),
    /URI:azureiot:\/\/hub\.example\.net\/devices\/dev1\/modules\/mod1/,
  );
});

test('sockets are 0666 in a directory of their own, below one only root can enter, and go when the module goes', async () => {
  assert.equal(servers.socketPath('mod1'), path.join(homedir, 'mnt', 'mod1', 'workload.sock'));
  assert.equal((await stat(servers.socketPath('mod1'))).mode & 0o777, 0o666);
  assert.equal((await stat(path.join(homedir, 'mnt', 'mod1'))).mode & 0o777, 0o755);
  assert.equal((await stat(path.join(homedir, 'mnt'))).mode & 0o777, 0o700);
  await servers.remove('other');
  await assert.rejects(stat(servers.socketPath('other')), { code: 'ENOENT' });
  assert.deepEqual(logged, []);
});

test('retain: modules not deployed lose their socket and directory, also those left by an earlier run', async () => {
  await servers.ensure('leaving');
  await mkdir(path.join(homedir, 'mnt', 'left-earlier'));
  assert.deepEqual((await servers.retain(['mod1'])).sort(), ['leaving', 'left-earlier', 'other']);
  assert.deepEqual(await readdir(path.join(homedir, 'mnt')), ['mod1']);
  await assert.rejects(call('leaving', 'GET', '/trust-bundle?api-version=2019-01-30'), { code: 'ENOENT' });
  assert.equal((await call('mod1', 'GET', '/trust-bundle?api-version=2019-01-30')).status, 200);
});
