import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { probeTls, TlsProbeError, type TlsProbeOptions } from '../../src/checks/support/tls-probe.js';
import { testPki, type TestPki } from '../helpers/certs.js';
import { startConnectProxy, type TestProxy } from '../helpers/proxy-server.js';
import { closedPort, startSilentServer, startTlsServer, type TestServer } from '../helpers/tls-servers.js';

const TIMEOUT_MS = 5_000;

async function probeFailure(options: TlsProbeOptions): Promise<TlsProbeError> {
  try {
    await probeTls(options);
  } catch (error) {
    assert.ok(error instanceof TlsProbeError, `expected a TlsProbeError, got ${String(error)}`);
    return error;
  }
  assert.fail('the probe succeeded');
}

describe('probeTls', () => {
  let pki: TestPki;
  let valid: TestServer;
  let selfSigned: TestServer;
  let expired: TestServer;
  let wrongHost: TestServer;
  let silent: TestServer;
  let openProxy: TestProxy;
  let authProxy: TestProxy;

  before(async () => {
    pki = testPki();
    [valid, selfSigned, expired, wrongHost, silent] = await Promise.all([
      startTlsServer(pki.server),
      startTlsServer(pki.selfSigned),
      startTlsServer(pki.expired),
      startTlsServer(pki.wrongHost),
      startSilentServer(),
    ]);
    openProxy = await startConnectProxy();
    authProxy = await startConnectProxy({ auth: { username: 'edge', password: 's3cr:et@pw' } });
  });

  after(async () => {
    for (const server of [valid, selfSigned, expired, wrongHost, silent, openProxy, authProxy]) {
      await server?.close();
    }
  });

  test('accepts a chain issued by an extra trusted CA, by host name and by IP', async () => {
    await probeTls({ host: 'localhost', port: valid.port, ca: [pki.ca.cert], timeoutMs: TIMEOUT_MS });
    await probeTls({ host: '127.0.0.1', port: valid.port, ca: [pki.ca.cert], timeoutMs: TIMEOUT_MS });
  });

  test('rejects a chain whose CA is not trusted', async () => {
    const error = await probeFailure({ host: 'localhost', port: valid.port, timeoutMs: TIMEOUT_MS });
    assert.equal(error.reason, 'certificate');
    assert.match(error.message, /unable to verify the first certificate|unable to get local issuer/);
  });

  test('rejects a self-signed certificate', async () => {
    const error = await probeFailure({
      host: 'localhost',
      port: selfSigned.port,
      ca: [pki.ca.cert],
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(error.reason, 'certificate');
    assert.match(error.message, /self[- ]signed certificate/);
  });

  test('rejects an expired certificate with Node wording', async () => {
    const error = await probeFailure({
      host: 'localhost',
      port: expired.port,
      ca: [pki.ca.cert],
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(error.reason, 'certificate');
    assert.match(error.message, /certificate has expired/);
  });

  test('rejects a certificate for another host name', async () => {
    const error = await probeFailure({
      host: 'localhost',
      port: wrongHost.port,
      ca: [pki.ca.cert],
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(error.reason, 'certificate');
    assert.match(error.message, /Hostname\/IP does not match certificate's altnames/);
  });

  test('checks the certificate against an explicit servername', async () => {
    await probeTls({
      host: '127.0.0.1',
      servername: 'wrong.example.net',
      port: wrongHost.port,
      ca: [pki.ca.cert],
      timeoutMs: TIMEOUT_MS,
    });
  });

  test('reports a closed port as refused', async () => {
    const port = await closedPort();
    const error = await probeFailure({ host: '127.0.0.1', port, timeoutMs: TIMEOUT_MS });
    assert.equal(error.reason, 'refused');
    assert.match(error.message, new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}`));
  });

  test('times out on a server that accepts TCP but never speaks TLS', async () => {
    const error = await probeFailure({ host: '127.0.0.1', port: silent.port, timeoutMs: 300 });
    assert.equal(error.reason, 'timeout');
    assert.match(error.message, /timed out after 300 ms waiting for the TLS handshake/);
    assert.ok(silent.accepted() >= 1);
  });

  test("stops when the caller's signal times out", async () => {
    const error = await probeFailure({
      host: '127.0.0.1',
      port: silent.port,
      timeoutMs: 60_000,
      signal: AbortSignal.timeout(200),
    });
    assert.equal(error.reason, 'timeout');
  });

  test('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = probeFailure({
      host: '127.0.0.1',
      port: silent.port,
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    assert.equal((await pending).reason, 'aborted');
  });

  test('tunnels through an HTTP CONNECT proxy', async () => {
    await probeTls({
      host: 'localhost',
      port: valid.port,
      ca: [pki.ca.cert],
      proxy: openProxy.url,
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(openProxy.requests.at(-1), `localhost:${valid.port}`);
    assert.equal(openProxy.authorizations.at(-1), undefined);
  });

  test('still verifies the certificate through a proxy', async () => {
    const error = await probeFailure({
      host: 'localhost',
      port: expired.port,
      ca: [pki.ca.cert],
      proxy: openProxy.url,
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(error.reason, 'certificate');
  });

  test('authenticates to the proxy with the credentials of its URL', async () => {
    await probeTls({
      host: 'localhost',
      port: valid.port,
      ca: [pki.ca.cert],
      proxy: authProxy.url,
      timeoutMs: TIMEOUT_MS,
    });
    const expected = `Basic ${Buffer.from('edge:s3cr:et@pw').toString('base64')}`;
    assert.equal(authProxy.authorizations.at(-1), expected);
  });

  test('reports a 407 with the status line and without the password', async () => {
    const proxy = `http://edge:wrong-pass@127.0.0.1:${authProxy.port}`;
    const error = await probeFailure({
      host: 'localhost',
      port: valid.port,
      ca: [pki.ca.cert],
      proxy,
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(error.reason, 'proxy');
    assert.match(error.message, /HTTP\/1\.1 407 Proxy Authentication Required/);
    assert.match(error.message, new RegExp(`http://127\\.0\\.0\\.1:${authProxy.port}`));
    assert.doesNotMatch(error.message, /wrong-pass|edge:/);
  });

  test("reports the proxy's refusal when it cannot reach the target", async () => {
    const port = await closedPort();
    const error = await probeFailure({
      host: '127.0.0.1',
      port,
      proxy: openProxy.url,
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(error.reason, 'proxy');
    assert.match(
      error.message,
      new RegExp(`refused CONNECT to 127\\.0\\.0\\.1:${port}: HTTP/1\\.1 502 Bad Gateway`),
    );
  });

  test('reports a proxy that is not listening as refused, naming the proxy', async () => {
    const port = await closedPort();
    const error = await probeFailure({
      host: 'localhost',
      port: valid.port,
      proxy: `http://user:hunter2@127.0.0.1:${port}`,
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(error.reason, 'refused');
    assert.match(error.message, new RegExp(`proxy http://127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(error.message, /hunter2/);
  });

  test('times out on a proxy that never answers CONNECT', async () => {
    const error = await probeFailure({
      host: 'localhost',
      port: valid.port,
      proxy: `http://127.0.0.1:${silent.port}`,
      timeoutMs: 300,
    });
    assert.equal(error.reason, 'timeout');
    assert.match(error.message, /waiting for proxy http:\/\/127\.0\.0\.1:\d+ to open a tunnel/);
  });

  test('rejects a proxy URL that is not http', async () => {
    const error = await probeFailure({
      host: 'localhost',
      port: valid.port,
      proxy: 'socks5://user:pw@127.0.0.1:1080',
      timeoutMs: TIMEOUT_MS,
    });
    assert.equal(error.reason, 'proxy');
    assert.doesNotMatch(error.message, /user:pw/);
  });
});
