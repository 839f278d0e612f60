import assert from 'node:assert/strict';
import { test } from 'node:test';

import { moduleEnvironment, type ModuleEnvContext } from '../../src/runtime/agent/module-env.js';
import { processModuleSpec } from '../helpers/module-specs.js';

const context: ModuleEnvContext = {
  deviceId: 'edge-1',
  iothubHostname: 'hub.example.net',
  gatewayHostname: 'edge-host',
  homedir: '/var/lib/iotedge',
  generationId: '638000000000000000',
  workloadApiVersion: '2019-01-30',
  runtimeLogLevel: 'info',
};

test('a process module is given the host path of its own workload socket', () => {
  const env = moduleEnvironment(processModuleSpec('filter'), context);
  assert.equal(env.IOTEDGE_WORKLOADURI, 'unix:///var/lib/iotedge/mnt/filter/workload.sock');
  assert.equal(env.IOTEDGE_MODULEID, 'filter');
});

test('a container is given the socket where its workload directory is bound, as IoT Edge does', () => {
  const spec = processModuleSpec('filter', {
    type: 'docker',
    settings: { image: 'filter:1', createOptions: {} },
  });
  const env = moduleEnvironment(spec, context);
  assert.equal(env.IOTEDGE_WORKLOADURI, 'unix:///var/run/iotedge/workload.sock');
  assert.equal(env.IOTEDGE_GATEWAYHOSTNAME, 'edge-host');
});

test("the runtime's variables win over the manifest's; RuntimeLogLevel only fills a gap", () => {
  const spec = processModuleSpec('filter', {
    env: { IOTEDGE_MODULEID: 'spoofed', RuntimeLogLevel: 'debug', OWN: 'kept' },
  });
  const env = moduleEnvironment(spec, { ...context, parentHostname: 'parent-host' });
  assert.equal(env.IOTEDGE_MODULEID, 'filter');
  assert.equal(env.RuntimeLogLevel, 'debug');
  assert.equal(env.OWN, 'kept');
  assert.equal(env.IOTEDGE_PARENTHOSTNAME, 'parent-host');
});
