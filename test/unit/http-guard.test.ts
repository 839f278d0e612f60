import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';

import { guardedListener, type RequestListener } from '../../src/runtime/http-guard.js';

const logged: string[] = [];
let behaviour: RequestListener = (_request, response) => response.end('ok');
const server = http.createServer(
  guardedListener(
    'test API',
    (...args) => behaviour(...args),
    (line) => logged.push(line),
  ),
);
let port = 0;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise((resolve) => server.close(resolve)));

function get(target: string): Promise<{ status: number; body: string } | 'reset'> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: target, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', () => resolve('reset'));
    });
    request.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve('reset') : reject(error),
    );
    request.end();
  });
}

test('a request target that is not a path is 400, before the API sees it', async () => {
  let seen = 0;
  behaviour = (_request, response) => {
    seen += 1;
    response.end('ok');
  };
  for (const target of ['//', '///', '//[', '//a:99999']) {
    const reply = await get(target);
    assert.deepEqual(
      reply,
      { status: 400, body: '{"message":"The request target is not a valid path"}' },
      target,
    );
  }
  assert.equal(seen, 0);
  assert.deepEqual(await get('/fine'), { status: 200, body: 'ok' });
});

test('a malformed %-escape the API meets while decoding is 400, not a failure', async () => {
  logged.length = 0;
  behaviour = (request, response) => response.end(decodeURIComponent(request.url ?? ''));
  assert.deepEqual(await get('/%zz'), {
    status: 400,
    body: '{"message":"The request path has a malformed %-escape"}',
  });
  assert.deepEqual(logged, []);
});

test('a listener that throws or rejects answers 500 and logs one line without a stack', async () => {
  logged.length = 0;
  behaviour = () => {
    throw new Error('sync boom');
  };
  assert.deepEqual(await get('/a'), { status: 500, body: '{"message":"Internal error"}' });
  behaviour = async () => {
    throw new Error('async boom');
  };
  assert.deepEqual(await get('/b'), { status: 500, body: '{"message":"Internal error"}' });
  assert.deepEqual(logged, [
    'test API: GET request failed: sync boom',
    'test API: GET request failed: async boom',
  ]);
});

test('a failure after the answer began ends the connection; the server keeps serving', async () => {
  behaviour = async (_request, response) => {
    response.writeHead(200, { 'Content-Length': '100' });
    response.write('partial');
    await new Promise((resolve) => setTimeout(resolve, 10));
    throw new Error('late boom');
  };
  const reply = await get('/late');
  assert.ok(reply === 'reset' || (reply.status === 200 && reply.body === 'partial'), JSON.stringify(reply));
  behaviour = (_request, response) => response.end('ok');
  assert.deepEqual(await get('/after'), { status: 200, body: 'ok' });
});
