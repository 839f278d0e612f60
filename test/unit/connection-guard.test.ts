import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';

import { guardConnections } from '../../src/runtime/daemon/connection-guard.js';
import { createCertificate } from '../helpers/cert-factory.js';

const DEADLINE_MS = 300;
/** Longer than any deadline here: a connection still open then was not closed by the guard. */
const BOUND_MS = 5_000;

function open(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** 'closed' once the peer closes the socket, 'open' if it is still open after `ms`. */
function outcome(socket: net.Socket, ms = BOUND_MS): Promise<'closed' | 'open'> {
  socket.on('error', () => undefined);
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve('closed');
    const timer = setTimeout(() => resolve('open'), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

function listening(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

describe('a TLS listener under a guard', () => {
  const identity = createCertificate({
    commonName: 'localhost',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
  });
  const lines: string[] = [];
  const server = tls.createServer({ key: identity.keyPem, cert: identity.certPem });
  const sockets = new Set<net.Socket>();
  let port: number;

  before(async () => {
    guardConnections(server, {
      name: 'MQTT',
      maxConnections: 3,
      deadlineMs: DEADLINE_MS,
      settledBy: 'handshake',
      log: (line) => lines.push(line),
    });
    server.on('connection', (socket: net.Socket) => sockets.add(socket));
    port = await listening(server);
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  test('a connection that does not finish its handshake in time is closed; one that did stays', async () => {
    const done = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    await new Promise((resolve) => done.once('secureConnect', resolve));
    const silent = await open(port);
    assert.equal(await outcome(silent), 'closed');
    assert.equal(await outcome(done, DEADLINE_MS * 3), 'open', 'the deadline ended with the handshake');
    assert.match(
      lines.join('\n'),
      /hub: MQTT: closed 1 connection that did not finish the TLS handshake within 0.3 s/,
    );
    done.destroy();
    await outcome(done);
  });

  test('at the cap, new connections are closed at once and logged once; the open ones stay', async () => {
    const held = [await open(port), await open(port), await open(port)];
    const extras = await Promise.all([open(port), open(port), open(port)]);
    for (const extra of extras) assert.equal(await outcome(extra, DEADLINE_MS / 2), 'closed');
    assert.equal(held.filter((socket) => socket.destroyed).length, 0, 'the connections within the cap');
    const refusals = lines.filter((line) => line.includes('connections open (the limit)'));
    assert.deepEqual(refusals, [
      'hub: MQTT: 3 connections open (the limit): closed 1 new connection at once (1 so far)',
    ]);
    for (const socket of held) socket.destroy();
  });

  test('a failure to accept (no descriptors left) is logged, and does not throw', () => {
    const error = Object.assign(new Error('too many open files'), { syscall: 'accept', code: 'EMFILE' });
    server.emit('error', error);
    assert.match(lines.at(-1)!, /hub: MQTT: cannot accept connections: EMFILE/);
  });
});

test('an HTTP listener under a guard closes a connection that sends no request in time', async () => {
  const lines: string[] = [];
  const server = http.createServer((_request, response) => response.end('ok'));
  guardConnections(server, {
    name: 'metrics',
    maxConnections: 10,
    deadlineMs: DEADLINE_MS,
    settledBy: 'request',
    log: (line) => lines.push(line),
  });
  const port = await listening(server);
  try {
    const silent = await open(port);
    const asking = await open(port);
    asking.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(await outcome(silent), 'closed');
    // kept past the deadline: Node's keep-alive timeout (5 s) ends it later
    assert.equal(await outcome(asking, DEADLINE_MS * 3), 'open');
    asking.destroy();
    assert.match(
      lines.join('\n'),
      /hub: metrics: closed 1 connection that did not send a request within 0.3 s/,
    );
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
