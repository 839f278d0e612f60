import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  buildCreateOptions,
  dropElevatedPermissions,
  mergeEnv,
  type CreateContext,
} from '../../src/runtime/modules/docker/create-options.js';

const context = (overrides: Partial<CreateContext> = {}): CreateContext => ({
  name: 'mod',
  image: 'example.azurecr.io/mod:1',
  configHash: 'hash-1',
  owner: 'Microsoft.Azure.Devices.Edge.Agent',
  homedir: '/var/lib/iotedge',
  env: { IOTEDGE_MODULEID: 'mod', SHARED: 'runtime' },
  network: 'azure-iot-edge',
  allowElevated: false,
  ...overrides,
});

test('the runtime environment wins over user Env entries of the same name', () => {
  assert.deepEqual(mergeEnv(['A=1', 'SHARED=user', 'FLAG'], { SHARED: 'runtime', B: '2' }), [
    'A=1',
    'FLAG',
    'SHARED=runtime',
    'B=2',
  ]);
});

test('labels: owner, original image and config hash are added, the reserved prefix is overwritten', () => {
  const options = buildCreateOptions(
    {
      Labels: {
        keep: 'me',
        'net.azure-devices.edge.owner': 'someone-else',
        'net.azure-devices.edge.custom': 'dropped',
      },
    },
    context(),
  );
  assert.deepEqual(options.Labels, {
    keep: 'me',
    'net.azure-devices.edge.owner': 'Microsoft.Azure.Devices.Edge.Agent',
    'net.azure-devices.edge.homedir': '/var/lib/iotedge',
    'net.azure-devices.edge.original-image': 'example.azurecr.io/mod:1',
    'net.azure-devices.edge.config-hash': 'hash-1',
    'net.azure-devices.edge.runtime-contract': '2',
  });
  assert.equal(options.Image, 'example.azurecr.io/mod:1');
});

test('user createOptions fields pass through and the input is not mutated', () => {
  const input = { Cmd: ['run'], HostConfig: { Binds: ['/a:/b'], CapAdd: ['NET_ADMIN'] } };
  const snapshot = structuredClone(input);
  const options = buildCreateOptions(input, context({ workloadDirectory: '/home/mnt/mod' }));
  assert.deepEqual(input, snapshot);
  assert.deepEqual(options.Cmd, ['run']);
  assert.deepEqual(
    (options.HostConfig as { Binds: string[] }).Binds,
    ['/a:/b', '/home/mnt/mod:/var/run/iotedge'],
    "the module's workload directory, not the socket file: a socket made anew stays reachable",
  );
});

test('no workload directory: no bind is added', () => {
  const options = buildCreateOptions({}, context());
  assert.equal((options.HostConfig as { Binds?: string[] }).Binds, undefined);
});

test('network: the configured network only when the user chose none', () => {
  const network = (createOptions: Record<string, unknown>) =>
    (buildCreateOptions(createOptions, context({ network: 'host' })).HostConfig as { NetworkMode?: string })
      .NetworkMode;
  assert.equal(network({}), 'host');
  assert.equal(network({ HostConfig: { NetworkMode: 'none' } }), 'none');
  assert.equal(network({ NetworkingConfig: { EndpointsConfig: { mynet: {} } } }), undefined);
  assert.equal(network({ NetworkingConfig: { EndpointsConfig: {} } }), 'host');
});

test('elevated permissions not allowed: Privileged false, CapAdd removed, CHOWN/SETUID dropped', () => {
  const hostConfig = buildCreateOptions(
    { HostConfig: { Privileged: true, CapAdd: ['NET_ADMIN'], CapDrop: ['MKNOD'] } },
    context(),
  ).HostConfig as Record<string, unknown>;
  assert.equal(hostConfig.Privileged, false);
  assert.equal(hostConfig.CapAdd, undefined);
  assert.deepEqual(hostConfig.CapDrop, ['MKNOD', 'CHOWN', 'SETUID']);
});

test('a capability the user added explicitly is not dropped; one already dropped is not repeated', () => {
  const hostConfig = dropElevatedPermissions({ CapAdd: ['CAP_CHOWN'], CapDrop: ['setuid'] });
  assert.deepEqual(hostConfig.CapDrop, ['setuid']);
  assert.equal(hostConfig.CapAdd, undefined);
});

test('elevated permissions allowed: Privileged and CapAdd are kept', () => {
  const hostConfig = buildCreateOptions(
    { HostConfig: { Privileged: true, CapAdd: ['NET_ADMIN'] } },
    context({ allowElevated: true }),
  ).HostConfig as Record<string, unknown>;
  assert.equal(hostConfig.Privileged, true);
  assert.deepEqual(hostConfig.CapAdd, ['NET_ADMIN']);
  assert.equal(hostConfig.CapDrop, undefined);
});

test('malformed createOptions fields are named', () => {
  assert.throws(() => buildCreateOptions({ Env: 'A=1' }, context()), /createOptions\.Env must be an array/);
  assert.throws(
    () => buildCreateOptions({ Labels: [] }, context()),
    /createOptions\.Labels must be an object/,
  );
  assert.throws(
    () => buildCreateOptions({ HostConfig: { Binds: [1] } }, context({ workloadDirectory: '/s' })),
    /createOptions\.HostConfig\.Binds/,
  );
});
