import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  apiErrorMessage,
  DaemonUnreachableError,
  unreachableMessage,
} from '../../src/cli/management-errors.js';
import { hostProblem, parseManagementHost } from '../../src/cli/management-host.js';

test('unix:// hosts name a socket path, http:// hosts a TCP address', () => {
  assert.deepEqual(parseManagementHost('unix:///var/run/iotedge/mgmt.sock'), {
    socketPath: '/var/run/iotedge/mgmt.sock',
  });
  assert.deepEqual(parseManagementHost('unix:///tmp/my%20dir/mgmt.sock'), {
    socketPath: '/tmp/my dir/mgmt.sock',
  });
  assert.deepEqual(parseManagementHost('http://127.0.0.1:15580'), { hostname: '127.0.0.1', port: 15580 });
  assert.deepEqual(parseManagementHost('http://[::1]:15580'), { hostname: '::1', port: 15580 });
});

test('anything else is an invalid --host', () => {
  for (const host of [
    '',
    'mgmt.sock',
    '/var/run/iotedge/mgmt.sock',
    'unix://',
    'unix:///',
    'https://x:1',
    'tcp://x:1',
    'http://x:1/path',
  ]) {
    assert.throws(
      () => parseManagementHost(host),
      /^CliError: Invalid value for --host parameter: .+\. Use unix:\/\/\/path\/to\/mgmt\.sock \(a unix socket\) or http:\/\/HOST:PORT\.$/,
      host,
    );
  }
});

test('connection failures become one line naming the host and what to do', () => {
  const error = (code: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`connect ${code} /x`), { code });
  const host = 'unix:///var/run/iotedge/mgmt.sock';
  assert.equal(
    unreachableMessage(host, error('ENOENT')),
    'Could not connect to the IoT Edge daemon at unix:///var/run/iotedge/mgmt.sock: no such socket (is iotedged running?)',
  );
  assert.match(
    unreachableMessage(host, error('ECONNREFUSED')),
    /: connection refused \(is iotedged running\?\)$/,
  );
  assert.match(unreachableMessage(host, error('EACCES')), /: permission denied \(run the command with sudo/);
  assert.match(unreachableMessage(host, error('EWHATEVER')), /: connect EWHATEVER \/x$/);
  const wrapped = DaemonUnreachableError.from(host, error('ECONNREFUSED'));
  assert.equal(wrapped.code, 'ECONNREFUSED');
  assert.doesNotMatch(wrapped.message, /\n/);
});

test('API errors carry the server message, else the status line', () => {
  assert.equal(apiErrorMessage(404, 'Not Found', '{"message":"Module x not found"}'), 'Module x not found');
  assert.equal(apiErrorMessage(404, 'Not Found', ''), 'The IoT Edge daemon answered 404 Not Found');
  assert.equal(apiErrorMessage(500, '', '<html>'), 'The IoT Edge daemon answered 500');
});

test('a wrong --host says what is wrong with it and never repeats a password', () => {
  assert.equal(
    hostProblem('/run/mgmt.sock'),
    "'/run/mgmt.sock' is a path without the unix:// scheme (write unix:///run/mgmt.sock)",
  );
  assert.equal(hostProblem('mgmt.sock'), "'mgmt.sock' has no scheme");
  assert.equal(hostProblem('fd://'), "'fd://' has the scheme fd:, which the daemon does not serve");
  assert.equal(hostProblem('unix://'), "'unix://' names no socket path");
  assert.equal(hostProblem(''), 'it is empty');
  assert.doesNotMatch(hostProblem('http://admin:s3cret@host:1'), /s3cret|admin/);
});
