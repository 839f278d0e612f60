import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeploymentError } from '../../src/runtime/deployment/deployment-error.js';
import { parseDeployment } from '../../src/runtime/deployment/manifest.js';
import {
  agentDesired,
  manifestWith,
  REGISTRY_PASSWORD,
  validManifest,
  type Json,
} from '../helpers/manifest-fixture.js';

function rejection(document: unknown): DeploymentError {
  try {
    parseDeployment(document);
  } catch (error) {
    assert.ok(error instanceof DeploymentError, `expected a DeploymentError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the manifest to be rejected');
}

function assertRejected(document: unknown, code: number, message: string | RegExp): void {
  const error = rejection(document);
  assert.equal(error.code, code, error.message);
  if (typeof message === 'string') assert.equal(error.message, message);
  else assert.match(error.message, message);
  assert.ok(!error.message.includes(REGISTRY_PASSWORD), 'no password in messages');
}

test('417: no desired properties for $edgeAgent', () => {
  const emptyMessage = 'empty configuration for the edge agent ($edgeAgent has no desired properties)';
  assertRejected({}, 417, emptyMessage);
  assertRejected({ modulesContent: {} }, 417, emptyMessage);
  assertRejected({ modulesContent: { $edgeAgent: { 'properties.desired': {} } } }, 417, emptyMessage);
  assertRejected(
    { modulesContent: { $edgeAgent: { 'properties.desired': { $version: 4, $metadata: {} } } } },
    417,
    emptyMessage,
  );
  const withoutAgent = validManifest();
  delete withoutAgent.modulesContent.$edgeAgent;
  assertRejected(withoutAgent, 417, emptyMessage);
});

test('412: missing, malformed or unsupported schemaVersion, checked before the rest', () => {
  const cases: [Json | undefined, string][] = [
    [undefined, 'schemaVersion: missing; supported: 1.0, 1.1'],
    [1.1, 'schemaVersion: expected a string, found a number; supported: 1.0, 1.1'],
    ['', 'schemaVersion: "" is not a version; supported: 1.0, 1.1'],
    ['one', 'schemaVersion: "one" is not a version; supported: 1.0, 1.1'],
    ['1', 'schemaVersion: "1" is not a version; supported: 1.0, 1.1'],
    ['1.2', 'schemaVersion: unsupported version 1.2; supported: 1.0, 1.1'],
    ['1.1.1', 'schemaVersion: unsupported version 1.1.1; supported: 1.0, 1.1'],
    ['1.1.0.0', 'schemaVersion: unsupported version 1.1.0.0; supported: 1.0, 1.1'],
    ['2.0', 'schemaVersion: unsupported version 2.0; supported: 1.0, 1.1'],
    ['0.9', 'schemaVersion: unsupported version 0.9; supported: 1.0, 1.1'],
  ];
  for (const [version, message] of cases) {
    assertRejected(manifestWith({ schemaVersion: version, runtime: 'broken too' }), 412, message);
  }
  assert.equal(rejection(manifestWith({ schemaVersion: '3.0' })).path, 'schemaVersion');
});

test('400: envelope and twin entries of the wrong shape', () => {
  assertRejected([], 400, '(manifest): expected a JSON object, found an array');
  assertRejected('text', 400, '(manifest): expected a JSON object, found a string');
  assertRejected({ modulesContent: [] }, 400, 'modulesContent: expected an object, found an array');
  assertRejected({ content: 5 }, 400, 'content: expected an object, found an integer');
  const entry = validManifest();
  entry.modulesContent.tempSensor = 'x';
  assertRejected(entry, 400, 'tempSensor: expected an object, found a string');
  const noDesired = validManifest();
  noDesired.modulesContent.tempSensor = { properties: {} };
  assertRejected(noDesired, 400, 'tempSensor: missing "properties.desired"');
  const badDesired = validManifest();
  badDesired.modulesContent.$edgeHub = { 'properties.desired': null };
  assertRejected(badDesired, 400, '$edgeHub.properties.desired: expected an object, found null');
});

/** [edits of $edgeAgent's desired properties, exact message] — every one a 400. */
const MALFORMED: [Record<string, Json | undefined>, string | RegExp][] = [
  // runtime
  [{ runtime: undefined }, 'runtime: missing (required)'],
  [{ runtime: 'docker' }, 'runtime: expected an object, found a string'],
  [{ 'runtime.type': 'containerd' }, 'runtime.type: unknown value "containerd", expected one of docker'],
  [{ 'runtime.type': undefined }, 'runtime.type: missing (required: docker)'],
  [{ 'runtime.settings': [] }, 'runtime.settings: expected an object, found an array'],
  [
    { 'runtime.settings.minDockerVersion': 25 },
    'runtime.settings.minDockerVersion: expected a string, found an integer',
  ],
  [
    { 'runtime.settings.loggingOptions': {} },
    'runtime.settings.loggingOptions: expected a string, found an object',
  ],
  [
    { 'runtime.settings.registryCredentials': 'x' },
    'runtime.settings.registryCredentials: expected an object, found a string',
  ],
  [
    { 'runtime.settings.registryCredentials.private': 'x' },
    'runtime.settings.registryCredentials.private: expected an object, found a string',
  ],
  [
    { 'runtime.settings.registryCredentials.private.address': undefined },
    'runtime.settings.registryCredentials.private.address: missing (required)',
  ],
  [
    { 'runtime.settings.registryCredentials.private.address': ' ' },
    'runtime.settings.registryCredentials.private.address: must not be empty',
  ],
  [
    { 'runtime.settings.registryCredentials.private.username': undefined },
    'runtime.settings.registryCredentials.private.username: missing (required)',
  ],
  [
    { 'runtime.settings.registryCredentials.private.password': undefined },
    'runtime.settings.registryCredentials.private.password: missing (required)',
  ],
  [
    { 'runtime.settings.registryCredentials.private.password': 1234 },
    'runtime.settings.registryCredentials.private.password: expected a string, found an integer',
  ],
  // system modules
  [{ systemModules: undefined }, 'systemModules: missing (required)'],
  [{ 'systemModules.edgeAgent': undefined }, 'systemModules.edgeAgent: missing (required)'],
  [
    { 'systemModules.edgeAgent.type': 'process' },
    'systemModules.edgeAgent.type: unknown value "process", expected one of docker',
  ],
  [{ 'systemModules.edgeAgent.settings': undefined }, 'systemModules.edgeAgent.settings: missing (required)'],
  [
    { 'systemModules.edgeAgent.settings.image': undefined },
    'systemModules.edgeAgent.settings.image: missing (required)',
  ],
  [
    { 'systemModules.edgeAgent.settings.createOptions': '{' },
    'systemModules.edgeAgent.settings.createOptions: not valid JSON (unexpected end of input at position 1)',
  ],
  [
    { 'systemModules.edgeAgent.env': { A: 'x' } },
    'systemModules.edgeAgent.env.A: expected an object like {"value": "…"}, found a string',
  ],
  [
    { 'systemModules.edgeAgent.imagePullPolicy': 'always' },
    'systemModules.edgeAgent.imagePullPolicy: unknown value "always", expected one of on-create, never',
  ],
  [{ 'systemModules.edgeHub': undefined }, 'systemModules.edgeHub: missing (required)'],
  [
    { 'systemModules.edgeHub.env': { UpstreamProtocol: { value: 'Http' } } },
    'systemModules.edgeHub.env.UpstreamProtocol.value: "Http" is not an upstream protocol (Amqp, AmqpWs, Mqtt, MqttWs)',
  ],
  [
    { 'systemModules.edgeHub.status': undefined },
    'systemModules.edgeHub.status: missing (required: running or stopped)',
  ],
  [
    { 'systemModules.edgeHub.type': 'process' },
    'systemModules.edgeHub.type: unknown value "process", expected one of docker',
  ],
  [
    { 'systemModules.edgeHub.restartPolicy': 'sometimes' },
    'systemModules.edgeHub.restartPolicy: unknown value "sometimes", expected one of never, on-failure, on-unhealthy, always',
  ],
  // modules and their names
  [{ modules: [] }, 'modules: expected an object, found an array'],
  [
    { 'modules.edgeHub': { type: 'docker', status: 'running', settings: { image: 'a' } } },
    'modules.edgeHub: edgeHub is a system module: declare it under systemModules',
  ],
  [
    { 'modules.edgeAgent': {} },
    'modules.edgeAgent: edgeAgent is a system module: declare it under systemModules',
  ],
  [{ 'modules.$hidden': {} }, 'modules.$hidden: a module name must not start with $'],
  [{ modules: { '': {} } }, 'modules.: a module name must not be empty'],
  [
    { modules: { 'a/b': {} } },
    /^modules\.a\/b: a module name has at most 128 characters among letters, digits/,
  ],
  [{ modules: { '..': {} } }, /^modules\.\.\.: a module name has at most 128/],
  [{ modules: { ['x'.repeat(129)]: {} } }, /a module name has at most 128 characters/],
  [{ 'modules.m1': 'docker' }, 'modules.m1: expected an object, found a string'],
  // module fields
  [
    { 'modules.tempSensor.type': undefined },
    'modules.tempSensor.type: missing (required: docker or process)',
  ],
  [
    { 'modules.tempSensor.type': 'rkt' },
    'modules.tempSensor.type: unknown value "rkt", expected one of docker, process',
  ],
  [{ 'modules.tempSensor.type': 1 }, 'modules.tempSensor.type: expected a string, found an integer'],
  [
    { 'modules.tempSensor.status': undefined },
    'modules.tempSensor.status: missing (required: running or stopped)',
  ],
  [
    { 'modules.tempSensor.status': 'paused' },
    'modules.tempSensor.status: unknown value "paused", expected one of running, stopped',
  ],
  [{ 'modules.tempSensor.status': true }, 'modules.tempSensor.status: expected a string, found a boolean'],
  [
    { 'modules.tempSensor.restartPolicy': 'sometimes' },
    'modules.tempSensor.restartPolicy: unknown value "sometimes", expected one of never, on-failure, on-unhealthy, always',
  ],
  [
    { 'modules.tempSensor.restartPolicy': null },
    'modules.tempSensor.restartPolicy: expected a string, found null',
  ],
  [
    { 'modules.tempSensor.imagePullPolicy': 'if-not-present' },
    'modules.tempSensor.imagePullPolicy: unknown value "if-not-present", expected one of on-create, never',
  ],
  [
    { 'modules.tempSensor.startupOrder': -1 },
    'modules.tempSensor.startupOrder: -1 is out of range 0..4294967295',
  ],
  [
    { 'modules.tempSensor.startupOrder': 4294967296 },
    'modules.tempSensor.startupOrder: 4294967296 is out of range 0..4294967295',
  ],
  [
    { 'modules.tempSensor.startupOrder': 1.5 },
    'modules.tempSensor.startupOrder: expected an integer, found a number',
  ],
  [
    { 'modules.tempSensor.startupOrder': '1' },
    'modules.tempSensor.startupOrder: expected an integer, found a string',
  ],
  [
    { 'modules.tempSensor.startupOrder': null },
    'modules.tempSensor.startupOrder: expected an integer, found null',
  ],
  [{ 'modules.tempSensor.version': 2 }, 'modules.tempSensor.version: expected a string, found an integer'],
  [{ 'modules.tempSensor.env': [] }, 'modules.tempSensor.env: expected an object, found an array'],
  [
    { 'modules.tempSensor.env': { A: { value: {} } } },
    'modules.tempSensor.env.A.value: expected a string, found an object',
  ],
  [
    { 'modules.tempSensor.env': { A: { value: null } } },
    'modules.tempSensor.env.A.value: expected a string, found null',
  ],
  [{ 'modules.tempSensor.env': { A: {} } }, 'modules.tempSensor.env.A.value: missing (required)'],
  [
    { 'modules.tempSensor.env': { 'A=B': { value: '1' } } },
    'modules.tempSensor.env.A=B: an environment variable name must be non-empty, without = or NUL',
  ],
  [{ 'modules.tempSensor.settings': undefined }, 'modules.tempSensor.settings: missing (required)'],
  // docker settings
  [
    { 'modules.tempSensor.settings.image': undefined },
    'modules.tempSensor.settings.image: missing (required)',
  ],
  [{ 'modules.tempSensor.settings.image': '' }, 'modules.tempSensor.settings.image: must not be empty'],
  [
    { 'modules.tempSensor.settings.image': 5 },
    'modules.tempSensor.settings.image: expected a string, found an integer',
  ],
  [
    { 'modules.tempSensor.settings.image': 'a b' },
    'modules.tempSensor.settings.image: "a b" is not a valid image name',
  ],
  [
    { 'modules.tempSensor.settings.image': 'repo/' },
    'modules.tempSensor.settings.image: "repo/" is not a valid image name',
  ],
  [
    { 'modules.tempSensor.settings.image': 'name:tag:more' },
    'modules.tempSensor.settings.image: "name:tag:more" is not a valid image name',
  ],
  [
    { 'modules.tempSensor.settings.createOptions': '{"a":}' },
    'modules.tempSensor.settings.createOptions: not valid JSON (unexpected character "}" at position 5)',
  ],
  [
    { 'modules.tempSensor.settings.createOptions': '{"a":1' },
    'modules.tempSensor.settings.createOptions: not valid JSON (unexpected end of input at position 6)',
  ],
  [
    { 'modules.tempSensor.settings.createOptions': '{"a":1} x' },
    'modules.tempSensor.settings.createOptions: not valid JSON (unexpected data after the JSON value at position 8)',
  ],
  [
    { 'modules.tempSensor.settings.createOptions': "{'a':1}" },
    'modules.tempSensor.settings.createOptions: not valid JSON (expected a property name in double quotes at position 1)',
  ],
  [
    { 'modules.tempSensor.settings.createOptions': '{"a":"\\q"}' },
    'modules.tempSensor.settings.createOptions: not valid JSON (invalid escape in string at position 6)',
  ],
  [
    { 'modules.tempSensor.settings.createOptions': '{"a":01}' },
    'modules.tempSensor.settings.createOptions: not valid JSON (unexpected character "1" at position 6)',
  ],
  [
    { 'modules.tempSensor.settings.createOptions': '{"a":tru}' },
    'modules.tempSensor.settings.createOptions: not valid JSON (unexpected character "t" at position 5)',
  ],
  [
    { 'modules.tempSensor.settings.createOptions': '[1,2]' },
    'modules.tempSensor.settings.createOptions: expected a JSON object, found an array',
  ],
  [
    { 'modules.tempSensor.settings.createOptions': '42' },
    'modules.tempSensor.settings.createOptions: expected a JSON object, found an integer',
  ],
  [
    { 'modules.tempSensor.settings.createOptions': { HostConfig: {} } },
    'modules.tempSensor.settings.createOptions: expected a string holding JSON (write the object as a JSON string), found an object',
  ],
  [
    {
      'modules.tempSensor.settings.createOptions': undefined,
      'modules.tempSensor.settings.createOptions01': '{}',
    },
    'modules.tempSensor.settings.createOptions01: createOptions chunks must be contiguous, but createOptions is missing',
  ],
  [
    { 'modules.tempSensor.settings.createOptions02': '}' },
    'modules.tempSensor.settings.createOptions02: createOptions chunks must be contiguous, but createOptions01 is missing',
  ],
  [
    { 'modules.tempSensor.settings.createOptions1': '}' },
    'modules.tempSensor.settings.createOptions1: createOptions chunks are named createOptions01 to createOptions99',
  ],
  [
    { 'modules.tempSensor.settings.createOptions00': '}' },
    'modules.tempSensor.settings.createOptions00: createOptions chunks are named createOptions01 to createOptions99',
  ],
  [
    { 'modules.tempSensor.settings.createOptions100': '}' },
    'modules.tempSensor.settings.createOptions100: createOptions chunks are named createOptions01 to createOptions99',
  ],
  [
    { 'modules.tempSensor.settings.CreateOptions': '{}' },
    /^modules\.tempSensor\.settings\.(CreateOptions: duplicates modules\.tempSensor\.settings\.createOptions|createOptions: duplicates modules\.tempSensor\.settings\.CreateOptions)$/,
  ],
  [
    { 'modules.tempSensor.settings.createOptions01': 7 },
    'modules.tempSensor.settings.createOptions01: expected a string, found an integer',
  ],
  // process settings
  [{ 'modules.filter.settings.command': undefined }, 'modules.filter.settings.command: missing (required)'],
  [{ 'modules.filter.settings.command': '  ' }, 'modules.filter.settings.command: must not be empty'],
  [
    { 'modules.filter.settings.command': ['node'] },
    'modules.filter.settings.command: expected a string, found an array',
  ],
  [
    { 'modules.filter.settings.args': 'filter.js' },
    'modules.filter.settings.args: expected an array of strings, found a string',
  ],
  [
    { 'modules.filter.settings.args': ['a', 2] },
    'modules.filter.settings.args[1]: expected a string, found an integer',
  ],
  [
    { 'modules.filter.settings.cwd': 'relative/dir' },
    'modules.filter.settings.cwd: must be an absolute path',
  ],
  [{ 'modules.filter.settings.cwd': 1 }, 'modules.filter.settings.cwd: expected a string, found an integer'],
  [
    { 'modules.filter.settings.user': 'no body' },
    'modules.filter.settings.user: expected a user name or uid[:gid], e.g. "nobody" or "1000:1000"',
  ],
  [
    { 'modules.filter.settings.user': '1000:' },
    'modules.filter.settings.user: expected a user name or uid[:gid], e.g. "nobody" or "1000:1000"',
  ],
  [{ 'modules.filter.settings.user': '4294967295' }, 'modules.filter.settings.user: ids go up to 4294967294'],
  [
    { 'modules.filter.settings.user': 1000 },
    'modules.filter.settings.user: expected a string, found an integer',
  ],
  [
    { 'modules.filter.settings.image': 'alpine' },
    'modules.filter.settings.image: unknown field, expected one of command, args, cwd, user, healthProbe',
  ],
  [
    { 'modules.filter.settings.healthProbe': 'curl' },
    'modules.filter.settings.healthProbe: expected an object, found a string',
  ],
  [
    { 'modules.filter.settings.healthProbe': {} },
    'modules.filter.settings.healthProbe: missing command or http',
  ],
  [
    { 'modules.filter.settings.healthProbe': { command: 'a', http: 'http://x/' } },
    'modules.filter.settings.healthProbe: give either command or http, not both',
  ],
  [
    { 'modules.filter.settings.healthProbe': { http: 'http://127.0.0.1/', args: [] } },
    'modules.filter.settings.healthProbe.args: only allowed with command',
  ],
  [
    { 'modules.filter.settings.healthProbe': { http: 'not a url' } },
    'modules.filter.settings.healthProbe.http: not a valid URL',
  ],
  [
    { 'modules.filter.settings.healthProbe': { http: 'ftp://127.0.0.1/' } },
    'modules.filter.settings.healthProbe.http: expected an http:// or https:// URL, found ftp:',
  ],
  [
    { 'modules.filter.settings.healthProbe': { command: 'c', intervalSecs: 0 } },
    'modules.filter.settings.healthProbe.intervalSecs: 0 is out of range 0.1..86400',
  ],
  [
    // 25 probes a second, each one a program started
    { 'modules.filter.settings.healthProbe': { command: 'c', intervalSecs: 1e-9 } },
    'modules.filter.settings.healthProbe.intervalSecs: 1e-9 is out of range 0.1..86400',
  ],
  [
    // beyond what a timer holds: a healthy module would read unhealthy
    { 'modules.filter.settings.healthProbe': { command: 'c', timeoutSecs: 1e12 } },
    'modules.filter.settings.healthProbe.timeoutSecs: 1000000000000 is out of range 0.01..3600',
  ],
  [
    { 'modules.filter.settings.command': '/usr/bin/no\u0000de' },
    'modules.filter.settings.command: must not contain a NUL character',
  ],
  [
    { 'modules.filter.settings.args': ['ok', 'a\u0000b'] },
    'modules.filter.settings.args[1]: must not contain a NUL character',
  ],
  [
    { 'modules.filter.settings.cwd': '/opt/\u0000' },
    'modules.filter.settings.cwd: must not contain a NUL character',
  ],
  [
    { 'modules.filter.env': { KEY: { value: 'x\u0000y' } } },
    'modules.filter.env.KEY.value: must not contain a NUL character',
  ],
  [
    { 'modules.filter.settings.args': ['x'.repeat(3 * 1024 * 1024)] },
    'modules.filter.settings.args[0]: 3145728 bytes; a program accepts at most 131071 in one entry',
  ],
  [
    { 'modules.filter.settings.args': Array.from({ length: 12 }, () => 'x'.repeat(100 * 1024)) },
    "modules.filter: arguments and environment take 1228826 bytes; a module's program is given at most 1048576",
  ],
  [
    { 'modules.tempSensor.env': { BIG: { value: 'x'.repeat(200 * 1024) } } },
    'modules.tempSensor.env.BIG: 204804 bytes; a program accepts at most 131071 in one entry',
  ],
  [
    {
      'systemModules.edgeHub.settings.createOptions':
        '{"HostConfig":{"PortBindings":{"8883/tcp":[{"HostPort":"-1"}]}}}',
    },
    'systemModules.edgeHub.settings.createOptions.HostConfig.PortBindings["8883/tcp"][0].HostPort: "-1" is not a port 0..65535',
  ],
  [
    {
      'systemModules.edgeHub.settings.createOptions':
        '{"HostConfig":{"PortBindings":{"443/tcp":[{"HostPort":"99999"}]}}}',
    },
    'systemModules.edgeHub.settings.createOptions.HostConfig.PortBindings["443/tcp"][0].HostPort: "99999" is not a port 0..65535',
  ],
  [
    {
      'systemModules.edgeHub.settings.createOptions':
        '{"HostConfig":{"PortBindings":{"8883/tcp":[{"HostIp":"gateway.local","HostPort":"8883"}]}}}',
    },
    'systemModules.edgeHub.settings.createOptions.HostConfig.PortBindings["8883/tcp"][0].HostIp: "gateway.local" is not an IP address',
  ],
  [
    { 'modules.filter.settings.healthProbe': { command: 'c', timeoutSecs: '5' } },
    'modules.filter.settings.healthProbe.timeoutSecs: expected a number, found a string',
  ],
  [
    { 'modules.filter.settings.healthProbe': { command: 'c', failureThreshold: 0 } },
    'modules.filter.settings.healthProbe.failureThreshold: 0 is out of range 1..1000',
  ],
  [
    { 'modules.filter.settings.healthProbe': { command: 'c', failureThreshold: 2.5 } },
    'modules.filter.settings.healthProbe.failureThreshold: expected an integer, found a number',
  ],
  [
    { 'modules.filter.settings.healthProbe': { command: 'c', retries: 3 } },
    'modules.filter.settings.healthProbe.retries: unknown field, expected one of command, args, http, intervalSecs, timeoutSecs, failureThreshold',
  ],
];

test('400: every malformed field is named in the message', async (t) => {
  for (const [edits, message] of MALFORMED) {
    const name = Object.entries(edits)
      .map(([path, value]) => `${path}=${value === undefined ? '(deleted)' : JSON.stringify(value)}`)
      .join(' ');
    await t.test(name.slice(0, 120), () => {
      assertRejected(manifestWith(edits), 400, message);
    });
  }
});

test('400 errors carry the field path', () => {
  const error = rejection(manifestWith({ 'modules.tempSensor.restartPolicy': 'sometimes' }));
  assert.equal(error.path, 'modules.tempSensor.restartPolicy');
  assert.equal(error.name, 'DeploymentError');
});

test('createOptions JSON errors never quote the text, which may hold secrets', () => {
  const secret = 'S3cr3tT0k3n';
  for (const text of [`{"Env":["TOKEN=${secret}"]`, `{"Env":["TOKEN=${secret}"]} trailing`, `${secret}`]) {
    const error = rejection(manifestWith({ 'modules.tempSensor.settings.createOptions': text }));
    assert.equal(error.code, 400);
    assert.ok(!error.message.includes(secret), error.message);
    assert.ok(!error.message.includes('S3c'), error.message);
  }
});

test('the first error found wins and the document is not modified', () => {
  const document = manifestWith({ 'modules.tempSensor.status': 'paused' });
  const before = JSON.stringify(document);
  rejection(document);
  assert.equal(JSON.stringify(document), before);
  assert.equal(agentDesired(document).schemaVersion, '1.1');
});

test('limits: modules per deployment, and name bytes the workload socket path allows', () => {
  const many = Object.fromEntries(
    Array.from({ length: 1001 }, (_, index) => [
      `m${index}`,
      { type: 'process', status: 'running', settings: { command: 'true' } },
    ]),
  );
  assertRejected(
    manifestWith({ modules: many }),
    400,
    'modules: 1001 modules; this device runs at most 1000 per deployment',
  );
  const limits = { maxModules: 1000, maxModuleNameBytes: 10 };
  assert.doesNotThrow(() => parseDeployment(manifestWith({}), limits), 'tempSensor has 10 bytes');
  const name = 'longername1';
  const document = manifestWith({
    [`modules.${name}`]: { type: 'process', status: 'running', settings: { command: 'true' } },
  });
  assert.throws(() => parseDeployment(document, limits), {
    name: 'DeploymentError',
    message: `modules.${name}: the name has 11 bytes; this device allows at most 10 (the module's workload socket path must fit in 107 bytes)`,
  });
});
