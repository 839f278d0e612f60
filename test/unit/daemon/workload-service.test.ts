import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import { test } from 'node:test';

import { WorkloadService } from '../../../src/runtime/daemon/workload-service.js';
import type { EdgeCa } from '../../../src/runtime/identity/certificates/edge-ca.js';
import { workloadDirectory, workloadSocket } from '../../../src/runtime/workload/socket-layout.js';
import { tempDirs } from '../../helpers/temp-dirs.js';

const tempDir = tempDirs('iotedge-wl-');

function trustBundle(socketPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { socketPath, method: 'GET', path: '/trust-bundle?api-version=2019-01-30' },
      (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

async function workloads() {
  const homedir = await tempDir();
  const removed: string[] = [];
  const service = new WorkloadService({
    homedir,
    device: { deviceId: 'dev1', iothubHostname: 'hub.example.net' },
    generationId: async () => undefined,
    edgeCa: { edgeCa: async () => ({ trustBundlePem: 'THE TRUST BUNDLE' }) as EdgeCa },
    onRemoved: (module) => removed.push(module),
    log: () => undefined,
  });
  return { homedir, service, removed };
}

test("a deployment's modules get sockets that answer from the edge CA", async () => {
  const { homedir, service, removed } = await workloads();
  try {
    await service.deploy(['a', 'b']);
    for (const module of ['a', 'b']) {
      const answer = await trustBundle(workloadSocket(homedir, module));
      assert.equal(answer.status, 200);
      assert.deepEqual(JSON.parse(answer.body), { certificate: 'THE TRUST BUNDLE' });
    }
    await service.ensure('a');
    assert.equal((await trustBundle(workloadSocket(homedir, 'a'))).status, 200, 'ensure is idempotent');
    assert.deepEqual(removed, []);
  } finally {
    await service.close();
  }
  assert.equal(existsSync(workloadSocket(homedir, 'a')), false, 'close removes the sockets');
});

test('a module that leaves the deployment loses its socket and directory, and its user is told', async () => {
  const { homedir, service, removed } = await workloads();
  try {
    await service.deploy(['a', 'b']);
    // left by an earlier run of the daemon
    await mkdir(workloadDirectory(homedir, 'old'), { recursive: true });
    await service.deploy(['a']);
    assert.deepEqual(removed.sort(), ['b', 'old']);
    assert.equal(existsSync(workloadDirectory(homedir, 'b')), false);
    assert.equal(existsSync(workloadDirectory(homedir, 'old')), false);
    assert.equal(
      (await trustBundle(workloadSocket(homedir, 'a'))).status,
      200,
      'the staying module is served',
    );
  } finally {
    await service.close();
  }
});
