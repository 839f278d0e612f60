import assert from 'node:assert/strict';
import { test } from 'node:test';

import { maxModuleNameBytes, workloadSocket, workloadUri } from '../../src/runtime/workload/socket-layout.js';

test('each module has a directory of its own with one socket', () => {
  assert.equal(workloadSocket('/var/lib/iotedge', 'filter'), '/var/lib/iotedge/mnt/filter/workload.sock');
  assert.equal(
    workloadUri('/var/lib/iotedge', 'filter', 'process'),
    'unix:///var/lib/iotedge/mnt/filter/workload.sock',
  );
  assert.equal(workloadUri('/var/lib/iotedge', 'filter', 'docker'), 'unix:///var/run/iotedge/workload.sock');
});

test('the longest module name is what keeps the socket path within 107 bytes', () => {
  const homedir = '/var/lib/iotedge';
  const limit = maxModuleNameBytes(homedir);
  assert.equal(limit, 107 - '/var/lib/iotedge/mnt//workload.sock'.length);
  assert.equal(Buffer.byteLength(workloadSocket(homedir, 'a'.repeat(limit))), 107);
  assert.ok(maxModuleNameBytes(`/${'d'.repeat(100)}`) < 0, 'a homedir too long leaves no room at all');
});
