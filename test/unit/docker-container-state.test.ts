import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  dockerTime,
  moduleStateOf,
  observedStatus,
} from '../../src/runtime/modules/docker/container-state.js';

test('docker states map to module statuses as IoT Edge 1.1 maps them (created, paused and exit 0 are stopped; a non-zero exit is failed)', () => {
  assert.equal(observedStatus({ Status: 'created' }), 'stopped');
  assert.equal(observedStatus({ Status: 'paused' }), 'stopped');
  assert.equal(observedStatus({ Status: 'restarting' }), 'stopped');
  assert.equal(observedStatus({ Status: 'exited', ExitCode: 0 }), 'stopped');
  assert.equal(observedStatus({ Status: 'exited', ExitCode: 3 }), 'failed');
  assert.equal(observedStatus({ Status: 'removing', ExitCode: 137 }), 'failed');
  assert.equal(observedStatus({ Status: 'dead' }), 'dead');
  assert.equal(observedStatus({ Status: 'running' }), 'running');
  assert.equal(observedStatus({ Status: 'running', Health: { Status: 'healthy' } }), 'running');
  assert.equal(observedStatus({ Status: 'running', Health: { Status: 'unhealthy' } }), 'unhealthy');
  assert.equal(observedStatus({ Status: 'bogus' }), 'unknown');
  assert.equal(observedStatus(undefined), 'unknown');
});

test("docker's zero time is no time", () => {
  assert.equal(dockerTime('0001-01-01T00:00:00Z'), undefined);
  assert.equal(dockerTime(undefined), undefined);
  assert.equal(dockerTime('garbage'), undefined);
  assert.deepEqual(dockerTime('2024-05-06T07:08:09.123456789Z'), new Date('2024-05-06T07:08:09.123Z'));
});

const labels = {
  'net.azure-devices.edge.owner': 'Microsoft.Azure.Devices.Edge.Agent',
  'net.azure-devices.edge.original-image': 'registry.local/mod:1',
  'net.azure-devices.edge.config-hash': 'abc',
  'net.azure-devices.edge.runtime-contract': '2',
};

test('a container made under an older runtime contract reports no config hash, so it is recreated', () => {
  const running = { Status: 'running', Pid: 42 };
  const { 'net.azure-devices.edge.runtime-contract': _contract, ...older } = labels;
  assert.equal(moduleStateOf('mod', { Config: { Labels: older }, State: running }, false).configHash, '');
  const other = { ...labels, 'net.azure-devices.edge.runtime-contract': '1' };
  assert.equal(moduleStateOf('mod', { Config: { Labels: other }, State: running }, false).configHash, '');
  assert.equal(moduleStateOf('mod', { Config: { Labels: labels }, State: running }, false).configHash, 'abc');
});

test('a failed container: exit code, both times, image and hash from the labels', () => {
  const state = moduleStateOf(
    'mod',
    {
      Config: { Image: 'sha256:1234', Labels: labels },
      State: {
        Status: 'exited',
        ExitCode: 2,
        Error: '',
        Pid: 0,
        StartedAt: '2024-01-01T00:00:00Z',
        FinishedAt: '2024-01-01T00:01:00Z',
      },
    },
    true,
  );
  assert.deepEqual(state, {
    name: 'mod',
    type: 'docker',
    status: 'failed',
    configHash: 'abc',
    image: 'registry.local/mod:1',
    statusDescription: 'exited',
    stopRequested: true,
    startTime: new Date('2024-01-01T00:00:00Z'),
    exitTime: new Date('2024-01-01T00:01:00Z'),
    exitCode: 2,
  });
});

test('a running container has a pid and no exit; a never-started one has no times', () => {
  const running = moduleStateOf(
    'mod',
    {
      Config: { Labels: labels },
      State: {
        Status: 'running',
        Pid: 42,
        StartedAt: '2024-01-01T00:00:00Z',
        FinishedAt: '0001-01-01T00:00:00Z',
      },
    },
    false,
  );
  assert.equal(running.pid, 42);
  assert.equal(running.exitTime, undefined);
  assert.equal(running.exitCode, undefined);
  const created = moduleStateOf(
    'mod',
    {
      Config: { Labels: labels },
      State: { Status: 'created', StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z' },
    },
    false,
  );
  assert.equal(created.status, 'stopped');
  assert.equal(created.startTime, undefined);
  assert.equal(created.exitTime, undefined);
});

test("the engine's error is the status description", () => {
  const state = moduleStateOf(
    'mod',
    { Config: { Labels: labels }, State: { Status: 'created', Error: 'exec: "nope": not found' } },
    false,
  );
  assert.equal(state.statusDescription, 'exec: "nope": not found');
});
