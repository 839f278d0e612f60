/**
 * The management API's request listener behind its real HTTP server, over a backend whose request
 * bodies go through the daemon's parsers: every request gets an answer, and none is a 500 (the
 * sign of an exception no parser documents).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startManagementServer } from '../../src/runtime/daemon/management-server.js';
import { checkAnswer } from './support/api-answers.js';
import { fakeBackend } from './support/fake-backend.js';
import {
  apiRequest,
  ECHO_REGRESSION,
  editedBodyRequest,
  send,
  type ApiRequest,
} from './support/management-requests.js';
import { runTarget } from './support/run.js';
import { target } from './support/target.js';

const directory = mkdtempSync(path.join(tmpdir(), 'fuzz-management-'));
const socket = path.join(directory, 'mgmt.sock');
const logged: string[] = [];
let server: Server;

before(async () => {
  server = await startManagementServer(socket, fakeBackend(), (line) => logged.push(line));
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(directory, { recursive: true, force: true });
});

async function checkRequest(request: ApiRequest): Promise<void> {
  const answer = await send(socket, request);
  checkAnswer(request, answer);
  assert.notEqual(
    answer.status,
    500,
    `${request.method} ${request.path}: ${answer.body} ${logged.join('\n')}`,
  );
}

const targets = [
  target({
    name: 'management API: random requests each get an answer, never a 500',
    runs: 600,
    async: true,
    arbitrary: () => apiRequest,
    check: checkRequest,
  }),
  target({
    name: 'management API: edited request bodies are refused without repeating them',
    runs: 300,
    async: true,
    arbitrary: () => editedBodyRequest,
    check: checkRequest,
    examples: [ECHO_REGRESSION],
  }),
];

for (const fuzz of targets) test(fuzz.name, () => runTarget(fuzz));
