import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeFailure } from '../../src/checks/connectivity/host-connect.js';
import { connectError, handshakeError, TlsProbeError } from '../../src/checks/support/tls-probe.js';

const errno = (code: string, message: string): NodeJS.ErrnoException =>
  Object.assign(new Error(message), { code });

test("a name that does not resolve gets 1.1's line, with the resolver's error as cause", () => {
  const error = connectError(
    errno('ENOTFOUND', 'getaddrinfo ENOTFOUND hub.invalid'),
    'hub.invalid',
    'hub.invalid:8883',
  );
  assert.deepEqual(probeFailure('hub.invalid:8883', error, false), {
    message: 'Could not connect to hub.invalid:8883 : could not resolve hostname',
    causes: ['getaddrinfo ENOTFOUND hub.invalid'],
  });
});

test("a failed handshake gets 1.1's line, with the TLS error as cause", () => {
  const error = handshakeError(errno('CERT_HAS_EXPIRED', 'certificate has expired'));
  assert.deepEqual(probeFailure('global.azure-devices-provisioning.net', error, false), {
    message: 'Could not connect to global.azure-devices-provisioning.net : could not complete TLS handshake',
    causes: ['certificate has expired'],
  });
  const reset = handshakeError(errno('ECONNRESET', 'socket hang up'));
  assert.equal(
    probeFailure('h:443', reset, true).message,
    'Could not connect to h:443 : could not complete TLS handshake',
  );
});

test('other failures keep the plain line and say what happened', () => {
  const refused = connectError(errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5671'), 'h', 'h:5671');
  assert.deepEqual(probeFailure('h:5671', refused, false), {
    message: 'Could not connect to h:5671',
    causes: ['connection refused by h:5671', 'connect ECONNREFUSED 127.0.0.1:5671'],
  });
  const timeout = new TlsProbeError('timeout', 'timed out after 10 s connecting to h:443');
  assert.deepEqual(probeFailure('h:443', timeout, false), {
    message: 'Could not connect to h:443',
    causes: ['timed out after 10 s connecting to h:443'],
  });
});

test("through a proxy, a name that does not resolve is the proxy's, not the target's", () => {
  const error = connectError(
    errno('ENOTFOUND', 'getaddrinfo ENOTFOUND proxy.lan'),
    'proxy.lan',
    'proxy http://proxy.lan:3128',
  );
  const { message, causes } = probeFailure('hub.example:443', error, true);
  assert.equal(message, 'Could not connect to hub.example:443');
  assert.equal(causes[0], 'could not resolve proxy host name proxy.lan (ENOTFOUND)');
});
