import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { workloadSocket } from '../../src/runtime/workload/socket-layout.js';
import { TestDaemon, eventually, manifest, nodeModule } from '../helpers/daemon.js';

const TARGETS = ['//', '///', '//[', '//a:99999', '//%zz'];

function raw(socketPath: string, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, path: target, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('requests that are not paths never stop the daemon', () => {
  const daemon = new TestDaemon();

  before(async () => {
    await daemon.start();
    const result = await daemon.request('POST', '/deployment', manifest({ idle: nodeModule('sleeper.js') }));
    assert.equal(result.status, 200, result.body);
  });
  after(() => daemon.cleanup());

  test('management and workload sockets answer 400 and go on serving', async () => {
    const workload = await eventually(async () => {
      const socket = workloadSocket(daemon.homedir, 'idle');
      return (await raw(socket, '/trust-bundle?api-version=2019-01-30')) === 200 ? socket : undefined;
    }, 'the workload socket');
    for (const target of TARGETS) {
      assert.equal(await raw(daemon.socket, target), 400, `management ${target}`);
      assert.equal(await raw(workload, target), 400, `workload ${target}`);
    }
    // a malformed escape inside a path the API decodes is the API's 400, not a failure
    assert.equal(await raw(daemon.socket, '/modules/%E0%A4%A/logs?api-version=2020-07-07'), 400);
    assert.equal(await raw(workload, '/modules/%E0%A4%A/genid/1/sign?api-version=2019-01-30'), 404);
    assert.equal(daemon.process?.exitCode, null, 'the daemon is alive');
    const modules = await daemon.request('GET', '/modules');
    assert.equal(modules.status, 200);
    assert.doesNotMatch(daemon.output, /Unhandled|TypeError|\n\s+at /);
  });
});
