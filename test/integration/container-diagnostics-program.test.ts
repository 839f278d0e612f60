import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { testPki, type TestPki } from '../helpers/certs.js';
import { closedPort, startTlsServer, type TestServer } from '../helpers/tls-servers.js';

/* The diagnostics program runs on the host here: fast feedback on its contract (exit codes, one-line reasons). */

const PROGRAM = fileURLToPath(new URL('../../src/diagnostics/main.js', import.meta.url));

function runProgram(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PROGRAM, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let pki: TestPki;
let tls: TestServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotedge-diag-program-'));
  pki = testPki();
  tls = await startTlsServer(pki.server);
  await writeFile(join(dir, 'ca.pem'), pki.ca.cert);
});

after(async () => {
  await tls.close();
  await rm(dir, { recursive: true, force: true });
});

async function managementServer(socketPath: string, status: number): Promise<Server> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(req.url === '/modules?api-version=2020-07-07' ? status : 404).end('{"modules":[]}');
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return Object.assign(server, { seen });
}

test('local-time prints the epoch seconds', async () => {
  const before = Math.floor(Date.now() / 1000);
  const { code, stdout } = await runProgram(['local-time']);
  assert.equal(code, 0);
  const seconds = Number(stdout.trim());
  assert.ok(seconds >= before && seconds <= Math.ceil(Date.now() / 1000), stdout);
});

test('an unknown subcommand is a usage error (exit 2)', async () => {
  const { code, stderr } = await runProgram(['bogus']);
  assert.equal(code, 2);
  assert.match(stderr, /^unknown subcommand bogus\n/);
});

test('iothub succeeds against a server whose CA is given with --ca-file', async () => {
  const { code, stdout, stderr } = await runProgram([
    'iothub',
    '--hostname',
    'localhost',
    '--port',
    String(tls.port),
    '--ca-file',
    join(dir, 'ca.pem'),
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, new RegExp(`Connected to localhost:${tls.port}`));
});

test('iothub fails with a one-line reason when the server is not trusted', async () => {
  const { code, stderr } = await runProgram([
    'iothub',
    '--hostname',
    'localhost',
    '--port',
    String(tls.port),
  ]);
  assert.equal(code, 1);
  assert.equal(stderr.trim().split('\n').length, 1);
  assert.match(
    stderr,
    new RegExp(`^Could not connect to localhost:${tls.port}: could not complete TLS handshake`),
  );
});

test('iothub fails when nothing listens on the port', async () => {
  const port = await closedPort();
  const { code, stderr } = await runProgram(['iothub', '--hostname', '127.0.0.1', '--port', String(port)]);
  assert.equal(code, 1);
  assert.match(stderr, /connection refused/);
});

test('iothub rejects a port that is not a number', async () => {
  const { code, stderr } = await runProgram(['iothub', '--hostname', 'localhost', '--port', 'https']);
  assert.equal(code, 2);
  assert.match(stderr, /--port must be a port number/);
});

test('edge-agent succeeds when the management endpoint answers 200 to GET /modules', async () => {
  const socketPath = join(dir, 'mgmt-ok.sock');
  const server = await managementServer(socketPath, 200);
  try {
    const { code, stderr } = await runProgram(['edge-agent', '--management-uri', `unix://${socketPath}`]);
    assert.equal(code, 0, stderr);
    assert.deepEqual((server as Server & { seen: string[] }).seen, ['GET /modules?api-version=2020-07-07']);
  } finally {
    server.close();
  }
});

test('edge-agent fails with the status when the endpoint answers otherwise', async () => {
  const socketPath = join(dir, 'mgmt-500.sock');
  const server = await managementServer(socketPath, 500);
  try {
    const { code, stderr } = await runProgram(['edge-agent', '--management-uri', `unix://${socketPath}`]);
    assert.equal(code, 1);
    assert.match(stderr, /answered GET \/modules with HTTP status 500/);
  } finally {
    server.close();
  }
});

test('edge-agent fails naming the URI when no socket exists', async () => {
  const uri = `unix://${join(dir, 'absent.sock')}`;
  const { code, stderr } = await runProgram(['edge-agent', '--management-uri', uri]);
  assert.equal(code, 1);
  assert.ok(stderr.startsWith(`Could not connect to the management endpoint at ${uri}:`), stderr);
});
