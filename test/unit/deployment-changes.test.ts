import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deploymentChanges, noChanges } from '../../src/runtime/agent/deployment-changes.js';
import { parseDeployment } from '../../src/runtime/deployment/manifest.js';
import { manifestWith, validManifest, type JsonMap } from '../helpers/manifest-fixture.js';

const parse = (document: unknown) => parseDeployment(document);

test('the first deployment adds every module, edgeHub included', () => {
  assert.deepEqual(deploymentChanges(undefined, parse(validManifest())), {
    ...noChanges(),
    added: ['edgeHub', 'filter', 'tempSensor'],
  });
});

test('the same deployment again changes nothing', () => {
  const changes = deploymentChanges(parse(validManifest()), parse(validManifest()));
  assert.deepEqual(changes, { ...noChanges(), unchanged: 3 });
});

test('modules added, updated, removed, started and stopped are told apart', () => {
  const before = parse(
    manifestWith({
      'modules.extra': { type: 'process', status: 'running', settings: { command: '/bin/true' } },
      'modules.idle': {
        type: 'process',
        status: 'stopped',
        settings: { command: '/bin/sleep', args: ['9'] },
      },
    }),
  );
  const after = parse(
    manifestWith({
      'modules.tempSensor.settings.image': 'mcr.microsoft.com/azureiotedge-simulated-temperature-sensor:1.1',
      'modules.idle': {
        type: 'process',
        status: 'running',
        settings: { command: '/bin/sleep', args: ['9'] },
      },
      'modules.filter.status': 'stopped',
      'modules.added': { type: 'process', status: 'running', settings: { command: '/bin/cat' } },
    }),
  );
  assert.deepEqual(deploymentChanges(before, after), {
    added: ['added'],
    updated: ['tempSensor'],
    removed: ['extra'],
    started: ['idle'],
    stopped: ['filter'],
    desiredProperties: [],
    unchanged: 1,
  });
});

test('changed desired properties of existing modules and of $edgeHub are listed', () => {
  const after = validManifest();
  (after.modulesContent.tempSensor as JsonMap)['properties.desired'] = { SendInterval: 10 };
  const hub = (after.modulesContent.$edgeHub as JsonMap)['properties.desired'] as JsonMap;
  hub.routes = { upstream: 'FROM /messages/* INTO $upstream', second: 'FROM /messages/* INTO $upstream' };
  const changes = deploymentChanges(parse(validManifest()), parse(after));
  assert.deepEqual(changes.desiredProperties, ['$edgeHub', 'tempSensor']);
  assert.equal(changes.unchanged, 3, 'a new twin does not recreate the module');
});

test('a change to edgeHub settings updates edgeHub', () => {
  const after = manifestWith({
    'systemModules.edgeHub.settings.createOptions':
      '{"HostConfig":{"PortBindings":{"8883/tcp":[{"HostPort":"18883"}]}}}',
  });
  assert.deepEqual(deploymentChanges(parse(validManifest()), parse(after)).updated, ['edgeHub']);
});
