import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configHash } from '../../src/runtime/deployment/config-hash.js';
import {
  parseDeployment,
  redactDeployment,
  reportedRuntimeSettings,
  type Deployment,
} from '../../src/runtime/deployment/manifest.js';
import type { DockerSettings, ModuleSpec, ProcessSettings } from '../../src/runtime/modules/types.js';
import {
  agentDesired,
  manifestWith,
  REGISTRY_PASSWORD,
  validManifest,
  type JsonMap,
} from '../helpers/manifest-fixture.js';
import { unhashedProcessSpec } from '../helpers/module-specs.js';

const moduleNamed = (deployment: Deployment, name: string): ModuleSpec => {
  const found = deployment.modules.find((spec) => spec.name === name);
  assert.ok(found, `module ${name} missing`);
  return found;
};

test('a complete manifest becomes a Deployment with every default filled in', () => {
  const deployment = parseDeployment(validManifest());
  assert.equal(deployment.schemaVersion, '1.1');
  assert.deepEqual(deployment.runtime, {
    type: 'docker',
    settings: {
      minDockerVersion: 'v1.25',
      loggingOptions: '',
      registryCredentials: {
        private: { address: 'registry.example.com:5000', username: 'puller', password: REGISTRY_PASSWORD },
      },
    },
  });
  assert.deepEqual(deployment.systemModules.edgeAgent, {
    type: 'docker',
    image: 'mcr.microsoft.com/azureiotedge-agent:1.4',
    createOptions: {},
    env: {},
    imagePullPolicy: 'on-create',
  });
  const hub = deployment.systemModules.edgeHub;
  assert.equal(hub.name, 'edgeHub');
  assert.equal(hub.restartPolicy, 'always');
  assert.equal(hub.startupOrder, 0);
  assert.deepEqual((hub.settings as DockerSettings).createOptions, {
    HostConfig: { PortBindings: { '8883/tcp': [{ HostPort: '8883' }] } },
  });

  assert.deepEqual(
    deployment.modules.map((spec) => spec.name),
    ['filter', 'tempSensor'],
    'sorted by name',
  );
  const { configHash: filterHash, ...filter } = moduleNamed(deployment, 'filter');
  assert.deepEqual(filter, unhashedProcessSpec('filter'));
  assert.match(filterHash, /^[0-9a-f]{64}$/);
  assert.equal(filterHash, configHash(moduleNamed(deployment, 'filter')));

  assert.deepEqual(deployment.moduleTwins, {
    $edgeHub: {
      schemaVersion: '1.1',
      routes: { upstream: 'FROM /messages/* INTO $upstream' },
      storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
    },
    tempSensor: { SendInterval: 5 },
  });
});

test('the bare modulesContent object and the az `content` wrapper are accepted too', () => {
  // compiled routes hold closures: compare them by their text
  const comparable = (document: unknown) => {
    const { edgeHub, ...rest } = parseDeployment(document);
    return { ...rest, routes: edgeHub?.routes.map(({ name, route }) => `${name}: ${route.text}`) };
  };
  const expected = comparable(validManifest());
  assert.deepEqual(expected.routes, ['upstream: FROM /messages/* INTO $upstream']);
  assert.deepEqual(comparable(validManifest().modulesContent), expected);
  assert.deepEqual(comparable({ content: validManifest() }), expected);
  assert.deepEqual(comparable({ id: 'layer-1', content: validManifest(), priority: 10 }), expected);
});

test('explicit module fields are kept; enum values are read without regard to case', () => {
  const deployment = parseDeployment(
    manifestWith({
      'modules.tempSensor': {
        type: 'Docker',
        status: 'Stopped',
        restartPolicy: 'ON-FAILURE',
        imagePullPolicy: 'never',
        startupOrder: 7,
        version: '2.0',
        env: { RATE: { value: '5' }, DEBUG: { value: true }, COUNT: { value: 3 } },
        settings: { image: 'localhost:5000/sensor', createOptions: '{"Env":["A=1"]}' },
      },
    }),
  );
  const { configHash: _hash, ...sensor } = moduleNamed(deployment, 'tempSensor');
  assert.deepEqual(sensor, {
    name: 'tempSensor',
    type: 'docker',
    status: 'stopped',
    restartPolicy: 'on-failure',
    imagePullPolicy: 'never',
    startupOrder: 7,
    version: '2.0',
    env: { RATE: '5', DEBUG: 'true', COUNT: '3' },
    settings: { image: 'localhost:5000/sensor:latest', createOptions: { Env: ['A=1'] } },
  });
});

test('images get :latest only when they have no tag', () => {
  const imageOf = (image: string) =>
    (
      moduleNamed(parseDeployment(manifestWith({ 'modules.tempSensor.settings.image': image })), 'tempSensor')
        .settings as DockerSettings
    ).image;
  assert.equal(imageOf('alpine'), 'alpine:latest');
  assert.equal(imageOf('  alpine:3.19 '), 'alpine:3.19');
  assert.equal(imageOf('localhost:5000/team/sensor'), 'localhost:5000/team/sensor:latest');
  assert.equal(imageOf('localhost:5000/team/sensor:1.2'), 'localhost:5000/team/sensor:1.2');
  assert.equal(imageOf('$upstream:443/azureiotedge-hub:1.4'), '$upstream:443/azureiotedge-hub:1.4');
  assert.equal(imageOf('alpine@sha256:abc123'), 'alpine@sha256:abc123');
});

test('createOptions chunks are joined in numeric order, names compared without case', () => {
  const options = JSON.stringify({ HostConfig: { Binds: ['/data:/data'] }, Labels: { a: 'b' } });
  const deployment = parseDeployment(
    manifestWith({
      'modules.tempSensor.settings': {
        image: 'alpine',
        createOptions02: options.slice(20),
        createOptions: options.slice(0, 10),
        CREATEOPTIONS01: options.slice(10, 20),
      },
    }),
  );
  assert.deepEqual(
    (moduleNamed(deployment, 'tempSensor').settings as DockerSettings).createOptions,
    JSON.parse(options),
  );
});

test('absent, empty, "null" and null createOptions all mean {}', () => {
  for (const createOptions of [undefined, '', '  ', 'null', null]) {
    const deployment = parseDeployment(
      manifestWith({
        'modules.tempSensor.settings': {
          image: 'alpine',
          ...(createOptions === undefined ? {} : { createOptions }),
        },
      }),
    );
    assert.deepEqual((moduleNamed(deployment, 'tempSensor').settings as DockerSettings).createOptions, {});
  }
});

test('process modules: cwd and both kinds of health probe, with probe defaults', () => {
  const deployment = parseDeployment(
    manifestWith({
      'modules.filter.settings': {
        command: 'python3',
        cwd: '/opt/filter',
        healthProbe: { command: '/opt/filter/check', args: ['--quick'] },
      },
      'modules.web': {
        type: 'process',
        status: 'running',
        settings: {
          command: '/usr/bin/node',
          healthProbe: {
            http: 'http://127.0.0.1:8080/health',
            intervalSecs: 0.5,
            timeoutSecs: 2,
            failureThreshold: 1,
          },
        },
      },
    }),
  );
  assert.deepEqual(moduleNamed(deployment, 'filter').settings as ProcessSettings, {
    command: 'python3',
    args: [],
    cwd: '/opt/filter',
    healthProbe: {
      type: 'command',
      command: '/opt/filter/check',
      args: ['--quick'],
      intervalSecs: 10,
      timeoutSecs: 5,
      failureThreshold: 3,
    },
  });
  assert.deepEqual((moduleNamed(deployment, 'web').settings as ProcessSettings).healthProbe, {
    type: 'http',
    url: 'http://127.0.0.1:8080/health',
    intervalSecs: 0.5,
    timeoutSecs: 2,
    failureThreshold: 1,
  });
});

test('schema versions 1.0, 1.1 and 1.1.0 are accepted', () => {
  for (const version of ['1.0', '1.1', '1.1.0', '1.0.3', ' 1.1 ']) {
    assert.equal(parseDeployment(manifestWith({ schemaVersion: version })).schemaVersion, version.trim());
  }
});

test('a deployment without modules, settings or registry credentials is valid', () => {
  const deployment = parseDeployment(manifestWith({ modules: undefined, 'runtime.settings': undefined }));
  assert.deepEqual(deployment.modules, []);
  assert.deepEqual(deployment.runtime.settings, { registryCredentials: {} });
});

test('$-prefixed twin metadata in $edgeAgent is ignored', () => {
  const document = validManifest();
  agentDesired(document).$version = 12;
  agentDesired(document).$metadata = { $lastUpdated: '2024-01-01T00:00:00Z' };
  assert.equal(parseDeployment(document).modules.length, 2);
});

test('configHash ignores status and key order but sees every other field', () => {
  const base = moduleNamed(parseDeployment(validManifest()), 'tempSensor');
  const hashWith = (edits: Record<string, JsonMap[string]>) =>
    moduleNamed(parseDeployment(manifestWith(edits)), 'tempSensor').configHash;
  assert.equal(hashWith({ 'modules.tempSensor.status': 'stopped' }), base.configHash);
  assert.equal(
    hashWith({ 'modules.tempSensor.settings.createOptions': '{"b":1,"a":{"y":2,"x":1}}' }),
    hashWith({ 'modules.tempSensor.settings.createOptions': '{"a":{"x":1,"y":2},"b":1}' }),
  );
  const changes: Record<string, JsonMap[string]>[] = [
    { 'modules.tempSensor.version': '1.1' },
    { 'modules.tempSensor.restartPolicy': 'never' },
    { 'modules.tempSensor.imagePullPolicy': 'never' },
    { 'modules.tempSensor.startupOrder': 3 },
    { 'modules.tempSensor.env': { A: { value: '1' } } },
    { 'modules.tempSensor.settings.image': 'alpine:3' },
    { 'modules.tempSensor.settings.createOptions': '{"Hostname":"x"}' },
  ];
  const hashes = new Set([base.configHash, ...changes.map(hashWith)]);
  assert.equal(hashes.size, changes.length + 1);
});

test('registry passwords are redacted for reporting and printing', () => {
  const deployment = parseDeployment(validManifest());
  const reported = reportedRuntimeSettings(deployment);
  assert.deepEqual(reported.registryCredentials, {
    private: { address: 'registry.example.com:5000', username: 'puller', password: '***' },
  });
  assert.equal(reported.minDockerVersion, 'v1.25');
  const redacted = redactDeployment(deployment);
  assert.ok(!JSON.stringify(redacted).includes(REGISTRY_PASSWORD));
  assert.deepEqual(redacted.modules, deployment.modules);
  assert.equal(
    deployment.runtime.settings.registryCredentials.private.password,
    REGISTRY_PASSWORD,
    'original untouched',
  );
});
