/**
 * config.yaml and its IOTEDGE_* environment overrides: any text, file or environment gives
 * Settings or a ConfigError that names the file and never repeats a key or password.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import fc from 'fast-check';
import yaml from 'js-yaml';

import { ConfigError, loadConfig, parseConfig } from '../../../src/runtime/config/load.js';
import { nastyString, textOf } from '../support/arbitraries.js';
import { assertDocumentedError } from '../support/messages.js';
import { applyJsonEdits, applyTextEdits, jsonEdits, textEdits } from '../support/mutations.js';
import { target } from '../support/target.js';

const FILE = '/etc/iotedge/config.yaml';
const DEVICE_KEY = 'c2VjcmV0a2V5MTIzNDU2Nzg=';
const SYMMETRIC_KEY = 'ZHBzIGVucm9sbG1lbnQga2V5IHNlY3JldA==';
const REGISTRY_PASSWORD = 'Zq8vLp2Rn5Tx7Wm3';
const SECRETS = [DEVICE_KEY, SYMMETRIC_KEY, REGISTRY_PASSWORD];

const VALID_CONFIG = [
  'provisioning:',
  '  source: manual',
  `  device_connection_string: "HostName=hub.example.net;DeviceId=edge-1;SharedAccessKey=${DEVICE_KEY}"`,
  'agent:',
  '  name: edgeAgent',
  '  type: docker',
  '  env:',
  '    RuntimeLogLevel: debug',
  '  config:',
  '    image: mcr.microsoft.com/azureiotedge-agent:1.1',
  '    auth:',
  '      username: puller',
  `      password: ${REGISTRY_PASSWORD}`,
  'hostname: edge-host',
  'connect:',
  '  management_uri: unix:///tmp/mgmt.sock',
  '  workload_uri: unix:///tmp/workload.sock',
  'listen:',
  '  management_uri: unix:///tmp/mgmt.sock',
  '  workload_uri: unix:///tmp/workload.sock',
  '  min_tls_version: tls1.2',
  'homedir: /var/lib/iotedge',
  'moby_runtime:',
  '  uri: unix:///var/run/docker.sock',
  '  network: azure-iot-edge',
  'certificates:',
  '  auto_generated_ca_lifetime_days: 90',
  'watchdog:',
  '  max_retries: infinite',
].join('\n');

/** DPS provisioning with a symmetric key, to put a second kind of secret in play. */
const DPS_CONFIG = VALID_CONFIG.replace(
  /provisioning:\n(.*\n){3}/,
  [
    'provisioning:',
    '  source: dps',
    '  global_endpoint: https://global.azure-devices-provisioning.net',
    '  scope_id: 0ne00000000',
    '  attestation:',
    '    method: symmetric_key',
    '    registration_id: edge-1',
    `    symmetric_key: ${SYMMETRIC_KEY}`,
    '',
  ].join('\n'),
);

const YAML_PIECES = [
  ':', ': ', '- ', '  ', '\n', '\n  ', '&a ', '*a', '!!str ', '!!binary ', '!!int ', '!!map', '!custom ', '<<: ', '{', '}',
  '[', ']', '"', "'", '|', '>', '#', '%YAML 1.2\n', '---\n', '...\n', '? ', '~', 'null', 'true', '0x10', '.inf', '1e3',
  '\t', 'source', 'manual', 'dps', 'external', 'x509', 'provisioning', 'agent', 'listen', 'tls1.3', '\ufeff', '\0',
  'unix://', 'http://', 'file:///', '-1', '4294967296', 'homedir', '__proto__', 'constructor',
]; // prettier-ignore

function checkConfig([text, env]: [string, NodeJS.ProcessEnv]): void {
  try {
    parseConfig(text, FILE, env);
  } catch (error) {
    assertDocumentedError(error, [ConfigError], { input: text + JSON.stringify(env), secrets: SECRETS });
  }
}

/** Variables whose values are secrets: only these are given one (elsewhere a message may quote a value). */
const SECRET_VARIABLES = [
  'IOTEDGE_PROVISIONING__DEVICE_CONNECTION_STRING', 'IOTEDGE_PROVISIONING__ATTESTATION__SYMMETRIC_KEY',
  'IOTEDGE_AGENT__CONFIG__AUTH__PASSWORD', 'IOTEDGE_PROVISIONING__AUTHENTICATION__DEVICE_CONNECTION_STRING',
]; // prettier-ignore

const OTHER_VARIABLES = [
  'IOTEDGE_HOSTNAME', 'IOTEDGE_HOMEDIR', 'IOTEDGE_PROVISIONING__SOURCE', 'IOTEDGE_AGENT__ENV__X',
  'IOTEDGE_AGENT__ENV__constructor', 'IOTEDGE_LISTEN__MIN_TLS_VERSION', 'IOTEDGE_MOBY_RUNTIME__NETWORK__NAME',
  'IOTEDGE_WATCHDOG__MAX_RETRIES', 'IOTEDGE_CERTIFICATES__AUTO_GENERATED_CA_LIFETIME_DAYS', 'IOTEDGE_AGENT__ENV____proto__',
  'IOTEDGE_HOST', 'IOTEDGE_agent__name', 'IOTEDGE_MOBY_RUNTIME', 'IOTEDGE_PROVISIONING__AUTHENTICATION__METHOD',
]; // prettier-ignore

const otherValue = fc.oneof(textOf(YAML_PIECES, 4), nastyString(12));
const secretValue = fc.oneof(
  fc.constantFrom(
    DEVICE_KEY,
    `HostName=h;DeviceId=d;SharedAccessKey=${DEVICE_KEY}`,
    SYMMETRIC_KEY,
    REGISTRY_PASSWORD,
  ),
  otherValue,
);

const environment = fc
  .array(
    fc.oneof(
      fc.tuple(fc.constantFrom(...SECRET_VARIABLES), secretValue),
      fc.tuple(fc.constantFrom(...OTHER_VARIABLES), otherValue),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => Object.fromEntries(pairs) as NodeJS.ProcessEnv);

let directory: string | undefined;

/** A fresh file in one temporary directory per process, holding `bytes`. */
function fileWith(bytes: Uint8Array): string {
  directory ??= mkdtempSync(path.join(tmpdir(), 'fuzz-config-'));
  const file = path.join(directory, 'config.yaml');
  writeFileSync(file, bytes);
  return file;
}

export const targets = [
  target({
    name: 'parseConfig: random YAML words',
    runs: 2000,
    arbitrary: () => fc.tuple(fc.oneof(textOf(YAML_PIECES, 16), nastyString(60)), fc.constant({})),
    check: checkConfig,
    // finding: js-yaml threw a TypeError (not a YAML error) for a tag its value does not fit
    examples: [['!!binary \n4294967296', {}]],
  }),
  target({
    name: 'parseConfig: a valid config.yaml with YAML spliced in',
    runs: 2000,
    arbitrary: () =>
      fc.tuple(
        fc
          .tuple(
            fc.constantFrom(VALID_CONFIG, DPS_CONFIG),
            textEdits(fc.oneof(fc.constantFrom(...YAML_PIECES), nastyString(4))),
          )
          .map(([text, edits]) => applyTextEdits(text, edits)),
        fc.constant({}),
      ),
    check: checkConfig,
    // finding: a `*` spliced before a key made it an alias name, which the YAML error quoted
    examples: [
      [DPS_CONFIG.replace(`symmetric_key: ${SYMMETRIC_KEY}`, `symmetric_key: *${SYMMETRIC_KEY}`), {}],
    ],
  }),
  target({
    name: 'parseConfig: a valid configuration with random values, dumped as YAML',
    runs: 2000,
    arbitrary: () =>
      fc.tuple(
        fc
          .tuple(fc.constantFrom(VALID_CONFIG, DPS_CONFIG), jsonEdits)
          .map(([text, edits]) => yaml.dump(applyJsonEdits(yaml.load(text), edits))),
        fc.constant({}),
      ),
    check: checkConfig,
  }),
  target({
    name: 'parseConfig: random IOTEDGE_* environment overrides',
    runs: 2000,
    arbitrary: () => fc.tuple(fc.constantFrom(VALID_CONFIG, DPS_CONFIG), environment),
    check: checkConfig,
  }),
  target({
    name: 'loadConfig: a file of random bytes or edited config.yaml',
    runs: 300,
    async: true,
    arbitrary: () =>
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc
          .tuple(fc.constantFrom(VALID_CONFIG, DPS_CONFIG), textEdits(fc.constantFrom(...YAML_PIECES)))
          .map(([text, edits]) => Buffer.from(applyTextEdits(text, edits))),
      ),
    check: async (bytes: Uint8Array) => {
      const file = fileWith(bytes);
      try {
        await loadConfig(file, {});
      } catch (error) {
        assertDocumentedError(error, [ConfigError], {
          input: Buffer.from(bytes).toString('utf8'),
          secrets: SECRETS,
        });
      }
    },
  }),
];
