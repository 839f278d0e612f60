import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  connect,
  createServer,
  type ConnectionOptions,
  type PeerCertificate,
  type TLSSocket,
} from 'node:tls';

import {
  certificateThumbprints,
  verifyClientChain,
} from '../../src/runtime/identity/certificates/client-auth.js';
import { loadEdgeCa, type EdgeCa } from '../../src/runtime/identity/certificates/edge-ca.js';
import { issueModuleIdentityCertificate } from '../../src/runtime/identity/certificates/identity-cert.js';
import {
  issueHubServerCertificate,
  type HubServerCertificate,
} from '../../src/runtime/identity/certificates/server-cert.js';
import { createCa, createLeaf, pemBundle } from '../helpers/cert-factory.js';
import { testPki } from '../helpers/certs.js';
import { listenTracked, type TestServer } from '../helpers/tls-servers.js';

const HOSTNAME = 'edge-gw.example.net';
const DAY = 24 * 60 * 60 * 1000;

type Handshake = { ok: true; peer: PeerCertificate } | { ok: false; code: string };

/** Connects to 127.0.0.1 and completes a TLS handshake, reporting how it ended. */
function handshake(port: number, options: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ...options });
    socket.once('secureConnect', () => {
      resolve({ ok: true, peer: socket.getPeerCertificate() });
      socket.end();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      resolve({ ok: false, code: error.code ?? error.message });
      socket.destroy();
    });
  });
}

/** A TLS server presenting `chain`; with `requestCert` it records what the client presented. */
async function startHub(
  cert: { privateKeyPem: string; chainPem: string },
  onClient?: (socket: TLSSocket) => void,
): Promise<TestServer> {
  const server = createServer(
    {
      key: cert.privateKeyPem,
      cert: cert.chainPem,
      requestCert: onClient !== undefined,
      rejectUnauthorized: false,
    },
    (socket) => {
      onClient?.(socket);
      socket.end();
    },
  );
  server.on('tlsClientError', () => undefined);
  return listenTracked(server, 'secureConnection');
}

describe('hub server certificate from the quickstart Edge CA, over real TLS', () => {
  let home: string;
  let ca: EdgeCa;
  let issued: HubServerCertificate;
  let hub: TestServer;
  let leafOnly: TestServer;

  before(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'iotedge-hub-certs-'));
    ca = await loadEdgeCa({ homedir: home, certificates: { auto_generated_ca_lifetime_days: 90 } });
    issued = await issueHubServerCertificate(ca, { hostname: HOSTNAME });
    hub = await startHub(issued);
    leafOnly = await startHub({ privateKeyPem: issued.privateKeyPem, chainPem: issued.certificatePem });
  });
  after(async () => {
    await hub?.close();
    await leafOnly?.close();
    await rm(home, { recursive: true, force: true });
  });

  test('a client trusting only the trust bundle accepts servername localhost', async () => {
    const result = await handshake(hub.port, { ca: issued.trustBundlePem, servername: 'localhost' });
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  test('… and the configured hostname, in any case', async () => {
    for (const servername of [HOSTNAME, HOSTNAME.toUpperCase()]) {
      const result = await handshake(hub.port, { ca: issued.trustBundlePem, servername });
      assert.equal(result.ok, true, `${servername}: ${JSON.stringify(result)}`);
      if (result.ok) assert.equal(result.peer.subject.CN, HOSTNAME);
    }
  });

  test('… and host 127.0.0.1 with no server name (the IP SAN)', async () => {
    const result = await handshake(hub.port, { ca: issued.trustBundlePem });
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  test('a client trusting a different CA refuses the hub', async () => {
    const other = await handshake(hub.port, { ca: testPki().ca.cert, servername: 'localhost' });
    assert.deepEqual(other, { ok: false, code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
    const systemOnly = await handshake(hub.port, { servername: 'localhost' });
    assert.equal(systemOnly.ok, false);
  });

  test('a name the certificate does not carry is refused', async () => {
    const result = await handshake(hub.port, { ca: issued.trustBundlePem, servername: 'wrong.example.net' });
    assert.deepEqual(result, { ok: false, code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  test('the chain is needed: the leaf alone does not verify against the root', async () => {
    const result = await handshake(leafOnly.port, { ca: issued.trustBundlePem, servername: 'localhost' });
    assert.deepEqual(result, { ok: false, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  test('a renewed certificate from a restarted daemon (reused CA) is trusted by the same bundle', async () => {
    const again = await loadEdgeCa({ homedir: home });
    assert.equal(again.trustBundlePem, ca.trustBundlePem);
    const renewed = await issueHubServerCertificate(again, { hostname: HOSTNAME });
    assert.notEqual(renewed.certificatePem, issued.certificatePem);
    const server = await startHub(renewed);
    try {
      const result = await handshake(server.port, { ca: issued.trustBundlePem, servername: HOSTNAME });
      assert.equal(result.ok, true, JSON.stringify(result));
    } finally {
      await server.close();
    }
  });

  test('mutual TLS: a module identity certificate is checked by chain and thumbprint', async () => {
    const identity = await issueModuleIdentityCertificate(ca, {
      iothubHostname: 'hub',
      deviceId: 'edge1',
      moduleId: 'filter',
    });
    const presented: Buffer[][] = [];
    const server = await startHub(issued, (socket) => {
      const chain: Buffer[] = [];
      for (
        let cert = socket.getPeerCertificate(true);
        cert?.raw !== undefined;
        cert = cert.issuerCertificate
      ) {
        if (chain.some((raw) => raw.equals(cert.raw))) break;
        chain.push(cert.raw);
      }
      presented.push(chain);
    });
    try {
      const result = await handshake(server.port, {
        ca: issued.trustBundlePem,
        servername: HOSTNAME,
        key: identity.privateKeyPem,
        cert: identity.chainPem,
      });
      assert.equal(result.ok, true, JSON.stringify(result));
      await waitFor(() => presented.length > 0);
      const chain = presented[0];
      assert.deepEqual(certificateThumbprints(chain[0]), certificateThumbprints(identity.certificatePem));
      assert.deepEqual(
        verifyClientChain(chain, [ca.trustBundlePem], { now: new Date(), commonName: 'filter' }),
        {
          ok: true,
        },
      );
      const foreign = verifyClientChain(chain, [testPki().ca.cert], { now: new Date() });
      assert.equal(foreign.ok, false);
    } finally {
      await server.close();
    }
  });
});

describe('hub server certificate from a configured RSA device CA with an intermediate', () => {
  let dir: string;
  let hub: TestServer;
  let issued: HubServerCertificate;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'iotedge-hub-certs-configured-'));
    const now = Date.now();
    const from = new Date(now - DAY);
    const root = createCa('Contoso Root', from, new Date(now + 365 * DAY));
    const intermediate = createLeaf(root, 'Contoso Intermediate', from, new Date(now + 300 * DAY), true);
    const deviceCa = createLeaf(intermediate, 'Contoso Device CA', from, new Date(now + 10 * DAY), true);
    const files = {
      cert: path.join(dir, 'ca.pem'),
      key: path.join(dir, 'ca.key'),
      trusted: path.join(dir, 'root.pem'),
    };
    await writeFile(files.cert, pemBundle(deviceCa, intermediate));
    await writeFile(files.key, deviceCa.keyPem);
    await writeFile(files.trusted, root.certPem);
    const ca = await loadEdgeCa({
      homedir: dir,
      certificates: {
        device_ca_cert: files.cert,
        device_ca_pk: files.key,
        trusted_ca_certs: `file://${files.trusted}`,
        auto_generated_ca_lifetime_days: 90,
      },
    });
    issued = await issueHubServerCertificate(ca, { hostname: HOSTNAME, lifetimeDays: 30 });
    hub = await startHub(issued);
  });
  after(async () => {
    await hub?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the full chain (leaf, device CA, intermediate) verifies against the configured root', async () => {
    assert.equal(issued.chainPem.match(/BEGIN CERTIFICATE/g)?.length, 3);
    for (const servername of ['localhost', HOSTNAME]) {
      const result = await handshake(hub.port, { ca: issued.trustBundlePem, servername });
      assert.equal(result.ok, true, `${servername}: ${JSON.stringify(result)}`);
    }
    assert.equal((await handshake(hub.port, { ca: issued.trustBundlePem })).ok, true);
  });

  test('its lifetime was cut to the device CA’s (10 days, not 30)', () => {
    const leaf = new X509Certificate(issued.certificatePem);
    assert.ok(new Date(leaf.validTo).getTime() <= Date.now() + 10 * DAY);
    assert.ok(issued.renewAt.getTime() < issued.notAfter.getTime());
  });

  test('a client trusting a different CA refuses it', async () => {
    const result = await handshake(hub.port, { ca: testPki().ca.cert, servername: 'localhost' });
    assert.equal(result.ok, false);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
