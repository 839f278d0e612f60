import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';

import {
  eventually,
  processRuntimes,
  processSpec,
  stateOf,
  waitForLine,
} from '../helpers/process-modules.js';

const runtimes = processRuntimes();
const servers: Server[] = [];

after(() => servers.forEach((server) => server.close()));

const newRuntime = () => runtimes.fresh();

test('a failing command probe makes the module unhealthy after failureThreshold failures, and healthy again', async () => {
  const { runtime, events, homedir } = await newRuntime();
  const flag = join(homedir, 'sick');
  const probe = {
    type: 'command' as const,
    command: '/bin/sh',
    args: ['-c', `if [ -e ${flag} ]; then echo "flag is up" >&2; exit 1; fi`],
    intervalSecs: 0.05,
    timeoutSecs: 5,
    failureThreshold: 3,
  };
  await runtime.create(processSpec('probed', { steps: ['wait'], healthProbe: probe }), {});
  await runtime.start('probed');
  await waitForLine(runtime, 'probed', 'waiting');
  assert.equal((await stateOf(runtime, 'probed'))?.status, 'running');

  const unhealthy = events.next('probed', 'health');
  await writeFile(flag, '');
  await unhealthy;
  const sick = await stateOf(runtime, 'probed');
  assert.equal(sick?.status, 'unhealthy');
  assert.match(
    sick?.statusDescription ?? '',
    /^health probe failed [3-9]\d* times in a row: \/bin\/sh exited with 1: flag is up$/,
  );
  assert.ok(sick?.pid, 'an unhealthy module still runs');

  const healthy = events.next('probed', 'health');
  await rm(flag);
  await healthy;
  const well = await stateOf(runtime, 'probed');
  assert.equal(well?.status, 'running');
  assert.equal(well?.statusDescription, undefined);
  assert.equal(events.events.filter((event) => event.kind === 'health').length, 2, 'one event per change');
  await runtime.stop('probed', 5000);
});

test('an HTTP probe wants 2xx; a timeout counts as a failure', async () => {
  let answer: number | 'hang' = 200;
  const server = createServer((_request, response) => {
    if (answer === 'hang') return;
    response.statusCode = answer;
    response.end();
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const { runtime, events } = await newRuntime();
  const probe = {
    type: 'http' as const,
    url: `http://127.0.0.1:${port}/health`,
    intervalSecs: 0.05,
    timeoutSecs: 0.2,
    failureThreshold: 2,
  };
  await runtime.create(processSpec('web', { steps: ['wait'], healthProbe: probe }), {});
  await runtime.start('web');
  await waitForLine(runtime, 'web', 'waiting');

  let change = events.next('web', 'health');
  answer = 503;
  await change;
  const failing = await stateOf(runtime, 'web');
  assert.equal(failing?.status, 'unhealthy');
  assert.match(failing?.statusDescription ?? '', /GET http:\/\/127\.0\.0\.1:\d+\/health answered 503$/);

  change = events.next('web', 'health');
  answer = 204;
  await change;
  assert.equal((await stateOf(runtime, 'web'))?.status, 'running');

  change = events.next('web', 'health');
  answer = 'hang';
  await change;
  const hanging = await stateOf(runtime, 'web');
  assert.equal(hanging?.status, 'unhealthy');
  assert.match(hanging?.statusDescription ?? '', /no answer within 0\.2 s$/);

  // once the module has ended, its health no longer matters
  await runtime.stop('web', 5000);
  const stopped = await eventually(() => stateOf(runtime, 'web'), 'the stopped module');
  assert.equal(stopped.status, 'stopped');
  server.closeAllConnections();
});
