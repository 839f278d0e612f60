import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyEnvOverrides,
  envOverrides,
  overridePath,
  parseEnvValue,
} from '../../src/runtime/config/env-overrides.js';
import { ConfigError, parseConfig } from '../../src/runtime/config/load.js';
import { deepMerge } from '../../src/runtime/config/merge.js';

const FILE = '/etc/iotedge/config.yaml';
const manual =
  'provisioning:\n  source: manual\n  device_connection_string: "HostName=h;DeviceId=d;SharedAccessKey=a2V5"\n';

test('deepMerge merges mappings and replaces scalars, sequences and nulls', () => {
  const base = { a: { b: 1, c: { d: 2 } }, list: [1, 2], keep: 'x', gone: { y: 1 } };
  const merged = deepMerge(base, { a: { c: { e: 3 } }, list: [3], gone: null, added: true });
  assert.deepEqual(merged, { a: { b: 1, c: { d: 2, e: 3 } }, list: [3], keep: 'x', gone: null, added: true });
  assert.deepEqual(base.a.c, { d: 2 }, 'the base is not modified');
});

test('IOTEDGE_<KEY> maps known top-level scalars and `__`-separated nested keys', () => {
  assert.deepEqual(overridePath('IOTEDGE_HOSTNAME'), ['hostname']);
  assert.deepEqual(overridePath('IOTEDGE_PARENT_HOSTNAME'), ['parent_hostname']);
  assert.deepEqual(overridePath('IOTEDGE_HOMEDIR'), ['homedir']);
  assert.deepEqual(overridePath('IOTEDGE_ALLOW_ELEVATED_DOCKER_PERMISSIONS'), [
    'allow_elevated_docker_permissions',
  ]);
  assert.deepEqual(overridePath('IOTEDGE_MOBY_RUNTIME__URI'), ['moby_runtime', 'uri']);
  assert.deepEqual(overridePath('IOTEDGE_CONNECT__MANAGEMENT_URI'), ['connect', 'management_uri']);
  assert.deepEqual(overridePath('IOTEDGE_PROVISIONING__ATTESTATION__METHOD'), [
    'provisioning',
    'attestation',
    'method',
  ]);
  assert.deepEqual(overridePath('IOTEDGE_AGENT__ENV__RuntimeLogLevel'), ['agent', 'env', 'RuntimeLogLevel']);
});

test('unknown, malformed and foreign variables are not overrides', () => {
  for (const name of [
    'IOTEDGE_HOST',
    'IOTEDGE_DEVICEID',
    'IOTEDGE_WORKLOADURI',
    'IOTEDGE_PROVISIONING',
    'IOTEDGE_MOBY_RUNTIME',
    'IOTEDGE_MOBY_RUNTIME__URI__X',
    'IOTEDGE_AGENT__ENV',
    'IOTEDGE_AGENT__ENV__',
    'IOTEDGE___HOSTNAME',
    'IOTEDGE_',
    'iotedge_hostname',
    'HOSTNAME',
  ]) {
    assert.equal(overridePath(name), undefined, name);
  }
});

test('values are YAML scalars', () => {
  assert.equal(parseEnvValue('true'), true);
  assert.equal(parseEnvValue('false'), false);
  assert.equal(parseEnvValue('42'), 42);
  assert.equal(parseEnvValue('edge1'), 'edge1');
  assert.equal(parseEnvValue('"quoted: text"'), 'quoted: text');
  assert.equal(parseEnvValue(''), '');
  assert.equal(parseEnvValue('~'), null);
  assert.equal(parseEnvValue('2024-01-01'), '2024-01-01', 'no timestamps');
  assert.equal(parseEnvValue('a: b'), 'a: b', 'a mapping stays text');
  assert.equal(parseEnvValue('[1, 2]'), '[1, 2]', 'a sequence stays text');
  assert.equal(parseEnvValue('unix:///var/run/docker.sock'), 'unix:///var/run/docker.sock');
  assert.equal(parseEnvValue('{ broken'), '{ broken');
});

test('overrides are applied in variable-name order without touching the input', () => {
  const config = { hostname: 'a', moby_runtime: { network: 'net1', uri: 'unix:///x' } };
  const overrides = envOverrides({
    IOTEDGE_MOBY_RUNTIME__NETWORK__IPV6: 'true',
    IOTEDGE_HOSTNAME: 'b',
    IOTEDGE_HOST: 'unix:///var/run/iotedge/mgmt.sock',
    PATH: '/usr/bin',
  });
  assert.deepEqual(
    overrides.map((o) => o.variable),
    ['IOTEDGE_HOSTNAME', 'IOTEDGE_MOBY_RUNTIME__NETWORK__IPV6'],
  );
  const result = applyEnvOverrides(config, overrides);
  assert.deepEqual(result, {
    hostname: 'b',
    moby_runtime: { network: { name: 'net1', ipv6: true }, uri: 'unix:///x' },
  });
  assert.equal(config.hostname, 'a');
});

test('environment overrides win over the file and the defaults', () => {
  const settings = parseConfig(
    `${manual}hostname: from-file\nconnect:\n  management_uri: http://127.0.0.1:1\n`,
    FILE,
    {
      IOTEDGE_HOSTNAME: 'from-env',
      IOTEDGE_ALLOW_ELEVATED_DOCKER_PERMISSIONS: 'false',
      IOTEDGE_MOBY_RUNTIME__URI: 'unix:///run/docker.sock',
      IOTEDGE_CONNECT__MANAGEMENT_URI: 'unix:///run/iotedge/mgmt.sock',
      IOTEDGE_AGENT__ENV__https_proxy: 'http://proxy:3128',
      IOTEDGE_CERTIFICATES__AUTO_GENERATED_CA_LIFETIME_DAYS: '30',
      IOTEDGE_HOST: 'unix:///var/run/iotedge/mgmt.sock',
      IOTEDGE_DEVICEID: 'ignored',
    },
  );
  assert.equal(settings.hostname, 'from-env');
  assert.equal(settings.allow_elevated_docker_permissions, false);
  assert.equal(settings.moby_runtime.uri, 'unix:///run/docker.sock');
  assert.equal(settings.connect.management_uri, 'unix:///run/iotedge/mgmt.sock');
  assert.equal(settings.connect.workload_uri, 'unix:///var/run/iotedge/workload.sock');
  assert.deepEqual(settings.agent.env, { https_proxy: 'http://proxy:3128' });
  assert.equal(settings.certificates?.auto_generated_ca_lifetime_days, 30);
});

test('environment overrides can switch the provisioning source', () => {
  const settings = parseConfig(manual, FILE, {
    IOTEDGE_PROVISIONING__SOURCE: 'external',
    IOTEDGE_PROVISIONING__ENDPOINT: 'http://127.0.0.1:8080',
  });
  assert.deepEqual(settings.provisioning, {
    source: 'external',
    dynamic_reprovisioning: false,
    endpoint: 'http://127.0.0.1:8080',
  });
});

test('an error caused by an override names the variable', () => {
  assert.throws(
    () => parseConfig(manual, FILE, { IOTEDGE_LISTEN__MIN_TLS_VERSION: 'ssl3' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.keyPath === 'listen.min_tls_version' &&
      error.message ===
        `${FILE}: listen.min_tls_version: Unsupported TLS protocol version: ssl3 (expected tls1.0, tls1.1 or tls1.2) (set by environment variable IOTEDGE_LISTEN__MIN_TLS_VERSION)`,
  );
  assert.throws(
    () => parseConfig(manual, FILE, { IOTEDGE_HOSTNAME: '~' }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message ===
        `${FILE}: hostname: missing required field (set by environment variable IOTEDGE_HOSTNAME)`,
  );
});
