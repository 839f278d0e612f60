import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  connectRequest,
  parseConnectResponse,
  parseProxyUrl,
  ProxyTunnelError,
  redactProxyUrl,
} from '../../src/checks/support/proxy-connect.js';
import {
  connectError,
  formatDuration,
  handshakeError,
  TlsProbeError,
} from '../../src/checks/support/tls-probe.js';

const errno = (code: string, message = code): NodeJS.ErrnoException =>
  Object.assign(new Error(message), { code });

describe('connectError', () => {
  test('name resolution failures are dns', () => {
    for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
      const error = connectError(errno(code), 'hub.example', 'hub.example:443');
      assert.equal(error.reason, 'dns');
      assert.equal(error.message, `could not resolve host name hub.example (${code})`);
    }
    const proxy = connectError(errno('ENOTFOUND'), 'proxy.lan', 'proxy http://proxy.lan:3128');
    assert.equal(proxy.message, 'could not resolve proxy host name proxy.lan (ENOTFOUND)');
  });

  test('refused, OS timeouts and other socket errors stay distinct', () => {
    assert.equal(connectError(errno('ECONNREFUSED'), 'h', 'h:1').reason, 'refused');
    assert.equal(connectError(errno('ETIMEDOUT'), 'h', 'h:1').reason, 'timeout');
    const unreachable = connectError(errno('EHOSTUNREACH', 'connect EHOSTUNREACH'), 'h', 'h:1');
    assert.equal(unreachable.reason, 'network');
    assert.equal(unreachable.message, 'could not connect to h:1: connect EHOSTUNREACH');
  });

  test('looks inside the AggregateError of a dual-stack connect', () => {
    const error = new AggregateError([errno('ECONNREFUSED'), errno('ECONNREFUSED')], 'all failed');
    assert.equal(connectError(error, 'localhost', 'localhost:5671').reason, 'refused');
  });

  test('passes probe errors through', () => {
    const original = new TlsProbeError('timeout', 'x');
    assert.equal(connectError(original, 'h', 'h:1'), original);
  });
});

describe('handshakeError', () => {
  test('certificate codes are certificate problems and keep the message', () => {
    for (const code of [
      'CERT_HAS_EXPIRED',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'CERT_NOT_YET_VALID',
    ]) {
      const error = handshakeError(errno(code, 'certificate has expired'));
      assert.equal(error.reason, 'certificate', code);
      assert.equal(error.message, 'could not complete TLS handshake: certificate has expired');
    }
  });

  test('other handshake failures are tls', () => {
    assert.equal(handshakeError(errno('ECONNRESET')).reason, 'tls');
    assert.equal(handshakeError(errno('ERR_SSL_WRONG_VERSION_NUMBER')).reason, 'tls');
  });
});

describe('proxy URLs', () => {
  test('redaction removes userinfo, even unparsable', () => {
    assert.equal(redactProxyUrl('http://user:pass@proxy:3128'), 'http://proxy:3128');
    assert.equal(redactProxyUrl('http://user:p/a@ss@proxy:3128/'), 'http://proxy:3128/');
    assert.equal(redactProxyUrl('user:pass@proxy:3128'), 'proxy:3128');
    assert.equal(redactProxyUrl('http://proxy:3128'), 'http://proxy:3128');
  });

  test('parses host, default port and Basic credentials', () => {
    const endpoint = parseProxyUrl('http://us%40er:p%3Ass@proxy.lan');
    assert.equal(endpoint.host, 'proxy.lan');
    assert.equal(endpoint.port, 80);
    assert.equal(endpoint.display, 'http://proxy.lan');
    assert.equal(endpoint.authorization, `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
    assert.deepEqual(parseProxyUrl('[::1]:3128'), { host: '::1', port: 3128, display: '[::1]:3128' });
  });

  test('rejects other schemes without echoing credentials', () => {
    assert.throws(
      () => parseProxyUrl('https://u:secret@proxy:443'),
      (error: unknown) => {
        assert.ok(error instanceof ProxyTunnelError);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
  });

  test('CONNECT request and response', () => {
    assert.equal(
      connectRequest('::1', 443, 'Basic eA=='),
      'CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\nProxy-Authorization: Basic eA==\r\n\r\n',
    );
    assert.deepEqual(parseConnectResponse('HTTP/1.1 200 Connection established\r\nVia: x'), {
      statusCode: 200,
      statusLine: 'HTTP/1.1 200 Connection established',
    });
    assert.equal(parseConnectResponse('HTTP/1.0 407').statusCode, 407);
    assert.throws(() => parseConnectResponse('SSH-2.0-OpenSSH'), ProxyTunnelError);
  });
});

test('formatDuration', () => {
  assert.equal(formatDuration(10_000), '10 s');
  assert.equal(formatDuration(250), '250 ms');
});
