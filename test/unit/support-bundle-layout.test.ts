import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bundledModules,
  expectedEntries,
  inspectEntry,
  moduleLogEntry,
} from '../../src/cli/support-bundle/layout.js';

test('module entries are named as IoT Edge 1.1 names them', () => {
  assert.equal(moduleLogEntry('tempSensor'), 'logs/tempSensor_log.txt');
  assert.equal(inspectEntry('tempSensor'), 'inspect/tempSensor.json');
  assert.equal(inspectEntry('tempSensor', true), 'inspect/tempSensor_err.json');
});

test('a module name never leaves its folder in the zip', () => {
  assert.equal(moduleLogEntry('../../etc/x'), 'logs/.._.._etc_x_log.txt');
  assert.equal(inspectEntry('..'), 'inspect/_.json');
});

test('-e keeps edgeAgent and edgeHub only', () => {
  const names = ['edgeAgent', 'edgeHub', 'sensor', 'filter'];
  assert.deepEqual(bundledModules(names, true), ['edgeAgent', 'edgeHub']);
  assert.deepEqual(bundledModules(names, false), names);
});

test('the file list with the daemon answering: views, and logs and inspect data per module', () => {
  assert.deepEqual(
    expectedEntries({
      modules: ['edgeAgent', 'edgeHub', 'sensor'],
      edgeRuntimeOnly: false,
      daemonReachable: true,
    }),
    [
      'check.json',
      'check.txt',
      'deployment/edgeAgent.json',
      'deployment/edgeHub.json',
      'hub/status.json',
      'inspect/edgeAgent.json',
      'inspect/edgeHub.json',
      'inspect/sensor.json',
      'logs/edgeAgent_log.txt',
      'logs/edgeHub_log.txt',
      'logs/iotedged.txt',
      'logs/sensor_log.txt',
      'modules.json',
      'system/host.json',
      'system/resources.json',
      'system/systeminfo.json',
      'version.json',
    ],
  );
});

test('the file list without the daemon: what the CLI collects alone, and why the rest is missing', () => {
  const alone = [
    'check.json',
    'check.txt',
    'errors.txt',
    'logs/iotedged.txt',
    'system/host.json',
    'version.json',
  ];
  assert.deepEqual(expectedEntries({ modules: [], edgeRuntimeOnly: false, daemonReachable: false }), alone);
  // the module containers the engine has: their inspect data, but no logs
  assert.deepEqual(
    expectedEntries({ modules: ['sensor'], edgeRuntimeOnly: false, daemonReachable: false }),
    [...alone, 'inspect/sensor.json'].sort(),
  );
  assert.deepEqual(
    expectedEntries({ modules: ['sensor'], edgeRuntimeOnly: true, daemonReachable: false }),
    alone,
  );
});
