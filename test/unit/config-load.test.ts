import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig } from '../../src/runtime/config/load.js';
import type { Settings } from '../../src/runtime/config/settings.js';

const FILE = '/etc/iotedge/config.yaml';
const CS = 'HostName=hub.azure-devices.net;DeviceId=dev1;SharedAccessKey=c2VjcmV0a2V5';

const parse = (text: string, env: NodeJS.ProcessEnv = {}): Settings => parseConfig(text, FILE, env);

/** The ConfigError parseConfig throws for `text`. */
function configError(text: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parse(text, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the configuration to be rejected');
}

const manual = `provisioning:\n  source: manual\n  device_connection_string: "${CS}"\n`;

test('defaults fill every section the file leaves out', () => {
  const settings = parse(manual);
  assert.deepEqual(settings, {
    provisioning: { source: 'manual', dynamic_reprovisioning: false, device_connection_string: CS },
    allow_elevated_docker_permissions: true,
    agent: {
      name: 'edgeAgent',
      type: 'docker',
      env: {},
      config: { image: 'mcr.microsoft.com/azureiotedge-agent:1.1', auth: {} },
    },
    hostname: 'localhost',
    connect: {
      management_uri: 'unix:///var/run/iotedge/mgmt.sock',
      workload_uri: 'unix:///var/run/iotedge/workload.sock',
    },
    listen: {
      management_uri: 'unix:///var/run/iotedge/mgmt.sock',
      workload_uri: 'unix:///var/run/iotedge/workload.sock',
    },
    homedir: '/var/lib/iotedge',
    moby_runtime: { uri: 'unix:///var/run/docker.sock', network: 'azure-iot-edge' },
    certificates: { auto_generated_ca_lifetime_days: 90 },
  });
});

test('the file is deep-merged over the defaults', () => {
  const settings = parse(
    manual +
      [
        'hostname: edge1.contoso.com',
        'agent:',
        '  env:',
        '    https_proxy: http://proxy:3128',
        '    RuntimeLogLevel: debug',
        '    Retries: 3',
        '  config:',
        '    image: registry.local/agent:1.1',
        '    createOptions:',
        '      HostConfig: { Privileged: false }',
        'listen:',
        '  management_uri: fd://iotedge.mgmt.socket',
        '  workload_uri: fd://iotedge.socket',
        '  min_tls_version: TLSv12',
        'moby_runtime:',
        '  network:',
        '    name: edge-net',
        '    ipv6: true',
        '    ipam:',
        '      config:',
        '        - { gateway: 172.18.0.1, subnet: 172.18.0.0/16, ip_range: 172.18.0.0/24 }',
        'certificates:',
        '  device_ca_cert: file:///certs/ca.pem',
        '  device_ca_pk: /certs/ca.key.pem',
        '  trusted_ca_certs: file://localhost/certs/root.pem',
        'watchdog:',
        '  max_retries: 3',
        'allow_elevated_docker_permissions: false',
        'parent_hostname: parent.contoso.com',
      ].join('\n'),
  );
  assert.equal(settings.hostname, 'edge1.contoso.com');
  assert.deepEqual(settings.agent, {
    name: 'edgeAgent',
    type: 'docker',
    env: { https_proxy: 'http://proxy:3128', RuntimeLogLevel: 'debug', Retries: '3' },
    config: {
      image: 'registry.local/agent:1.1',
      auth: {},
      createOptions: { HostConfig: { Privileged: false } },
    },
  });
  assert.deepEqual(settings.listen, {
    management_uri: 'fd://iotedge.mgmt.socket',
    workload_uri: 'fd://iotedge.socket',
    min_tls_version: 'tls1.2',
  });
  assert.deepEqual(settings.connect.management_uri, 'unix:///var/run/iotedge/mgmt.sock');
  assert.deepEqual(settings.moby_runtime, {
    uri: 'unix:///var/run/docker.sock',
    network: {
      name: 'edge-net',
      ipv6: true,
      ipam: { config: [{ gateway: '172.18.0.1', subnet: '172.18.0.0/16', ip_range: '172.18.0.0/24' }] },
    },
  });
  assert.deepEqual(settings.certificates, {
    auto_generated_ca_lifetime_days: 90,
    device_ca_cert: 'file:///certs/ca.pem',
    device_ca_pk: '/certs/ca.key.pem',
    trusted_ca_certs: 'file://localhost/certs/root.pem',
  });
  assert.deepEqual(settings.watchdog, { max_retries: 3 });
  assert.equal(settings.allow_elevated_docker_permissions, false);
  assert.equal(settings.parent_hostname, 'parent.contoso.com');
});

test('min_tls_version accepts every 1.1 alias, case-insensitively', () => {
  const cases: [string, string][] = [
    ['tls', 'tls1.0'],
    ['TLS1', 'tls1.0'],
    ['tls10', 'tls1.0'],
    ['tls1_0', 'tls1.0'],
    ['Tlsv10', 'tls1.0'],
    ['tls1.1', 'tls1.1'],
    ['TLS11', 'tls1.1'],
    ['tls1_1', 'tls1.1'],
    ['tlsv11', 'tls1.1'],
    ['tls1.2', 'tls1.2'],
    ['tls12', 'tls1.2'],
    ['tls1_2', 'tls1.2'],
  ];
  for (const [alias, expected] of cases) {
    const settings = parse(`${manual}listen:\n  min_tls_version: ${alias}\n`);
    assert.equal(settings.listen.min_tls_version, expected, alias);
  }
  assert.equal(parse(manual).listen.min_tls_version, undefined);
});

test('an empty moby_runtime.network name means the default network', () => {
  assert.equal(parse(`${manual}moby_runtime:\n  network: ""\n`).moby_runtime.network, 'azure-iot-edge');
});

test('an empty file leaves the defaults, which lack a device identity', () => {
  assert.equal(
    configError('').message,
    `${FILE}: provisioning: One of provisioning.device_connection_string or provisioning.authentication must be set in the config.yaml.`,
  );
});

test('manual provisioning: connection string, authentication by connection string, and x509', () => {
  assert.equal(
    (parse(manual).provisioning as { device_connection_string?: string }).device_connection_string,
    CS,
  );

  const byMethod = parse(
    `provisioning:\n  source: manual\n  authentication:\n    method: device_connection_string\n    device_connection_string: "${CS}"\n`,
  );
  assert.deepEqual(byMethod.provisioning, {
    source: 'manual',
    dynamic_reprovisioning: false,
    authentication: { method: 'device_connection_string', device_connection_string: CS },
  });

  const x509 = parse(
    [
      'provisioning:',
      '  source: manual',
      '  dynamic_reprovisioning: true',
      '  authentication:',
      '    method: x509',
      '    iothub_hostname: hub.azure-devices.net',
      '    device_id: dev1',
      '    identity_cert: file:///certs/id.pem',
      '    identity_pk: /certs/id.key.pem',
    ].join('\n'),
  );
  assert.deepEqual(x509.provisioning, {
    source: 'manual',
    dynamic_reprovisioning: true,
    authentication: {
      method: 'x509',
      iothub_hostname: 'hub.azure-devices.net',
      device_id: 'dev1',
      identity_cert: 'file:///certs/id.pem',
      identity_pk: '/certs/id.key.pem',
    },
  });
});

test('manual provisioning with both or neither identity forms is rejected', () => {
  assert.equal(
    configError(`${manual}  authentication:\n    method: x509\n`).message,
    `${FILE}: provisioning: Only one of provisioning.device_connection_string or provisioning.authentication must be set in the config.yaml.`,
  );
  assert.equal(configError('provisioning:\n  source: manual\n').keyPath, 'provisioning');
});

const dps = (rest: string) =>
  `provisioning:\n  source: dps\n  global_endpoint: https://global.azure-devices-provisioning.net\n  scope_id: 0ne000\n${rest}`;

test('dps provisioning with each attestation form', () => {
  assert.deepEqual(parse(dps('  attestation:\n    method: tpm\n    registration_id: reg1\n')).provisioning, {
    source: 'dps',
    dynamic_reprovisioning: false,
    global_endpoint: 'https://global.azure-devices-provisioning.net',
    scope_id: '0ne000',
    attestation: { method: 'tpm', registration_id: 'reg1' },
    always_reprovision_on_startup: true,
  });
  const symmetric = parse(
    dps(
      '  always_reprovision_on_startup: false\n  attestation:\n    method: symmetric_key\n    registration_id: reg1\n    symmetric_key: c2VjcmV0\n',
    ),
  );
  assert.deepEqual(symmetric.provisioning, {
    source: 'dps',
    dynamic_reprovisioning: false,
    global_endpoint: 'https://global.azure-devices-provisioning.net',
    scope_id: '0ne000',
    attestation: { method: 'symmetric_key', registration_id: 'reg1', symmetric_key: 'c2VjcmV0' },
    always_reprovision_on_startup: false,
  });
  const group = parse(
    dps(
      '  transport: mqtt\n  attestation:\n    method: symmetric_key\n    registration_id: reg2\n    group_key: Z3JvdXA=\n',
    ),
  );
  assert.deepEqual(group.provisioning, {
    source: 'dps',
    dynamic_reprovisioning: false,
    global_endpoint: 'https://global.azure-devices-provisioning.net',
    scope_id: '0ne000',
    attestation: { method: 'symmetric_key', registration_id: 'reg2', group_key: 'Z3JvdXA=' },
    always_reprovision_on_startup: true,
    transport: 'mqtt',
  });
  const x509 = parse(
    dps(
      '  attestation:\n    method: x509\n    identity_cert: file:///c.pem\n    identity_pk: file:///k.pem\n',
    ),
  );
  assert.deepEqual((x509.provisioning as { attestation: unknown }).attestation, {
    method: 'x509',
    identity_cert: 'file:///c.pem',
    identity_pk: 'file:///k.pem',
  });
  const x509WithId = parse(
    dps(
      '  attestation:\n    method: x509\n    registration_id: r\n    identity_cert: /c.pem\n    identity_pk: /k.pem\n',
    ),
  );
  assert.equal(
    (x509WithId.provisioning as { attestation: { registration_id?: string } }).attestation.registration_id,
    'r',
  );
});

test('dps: a legacy top-level registration_id means TPM attestation', () => {
  const settings = parse(dps('  registration_id: legacy1\n'));
  assert.deepEqual((settings.provisioning as { attestation: unknown }).attestation, {
    method: 'tpm',
    registration_id: 'legacy1',
  });
});

test('dps: registration_id both at the top level and in attestation, or nowhere, is rejected', () => {
  const both = configError(
    dps('  registration_id: a\n  attestation:\n    method: tpm\n    registration_id: b\n'),
  );
  assert.equal(both.keyPath, 'provisioning');
  assert.match(
    both.message,
    /^\/etc\/iotedge\/config\.yaml: provisioning: Provisioning registration_id has to be set only in attestation/,
  );
  const neither = configError(dps(''));
  assert.match(
    neither.message,
    /^\/etc\/iotedge\/config\.yaml: provisioning: Provisioning registration_id has to be set:/,
  );
});

test('external provisioning', () => {
  assert.deepEqual(
    parse('provisioning:\n  source: external\n  endpoint: http://localhost:9999\n').provisioning,
    {
      source: 'external',
      dynamic_reprovisioning: false,
      endpoint: 'http://localhost:9999',
    },
  );
});

test('schema errors name the file and the exact key path', () => {
  const cases: [string, string][] = [
    [
      'provisioning:\n  source: magic\n',
      'provisioning.source: unknown value "magic", expected one of manual, dps, external',
    ],
    [
      dps('  attestation:\n    method: foo\n'),
      'provisioning.attestation.method: unknown value "foo", expected one of tpm, symmetric_key, x509',
    ],
    [
      dps('  attestation:\n    method: tpm\n'),
      'provisioning.attestation.registration_id: missing required field',
    ],
    [
      dps('  attestation:\n    method: symmetric_key\n    registration_id: r\n'),
      'provisioning.attestation: Set provisioning.attestation.symmetric_key (individual enrollment) or provisioning.attestation.group_key (group enrollment).',
    ],
    [
      dps(
        '  attestation:\n    method: symmetric_key\n    registration_id: r\n    symmetric_key: a2V5\n    group_key: a2V5\n',
      ),
      'provisioning.attestation: Set either provisioning.attestation.symmetric_key (individual enrollment) or provisioning.attestation.group_key (group enrollment), not both.',
    ],
    [
      dps('  transport: amqp\n  attestation:\n    method: tpm\n    registration_id: r\n'),
      'provisioning.transport: unknown value "amqp", expected one of http, mqtt',
    ],
    [
      dps(
        '  attestation:\n    method: x509\n    identity_cert: https://example.com/c.pem\n    identity_pk: /k\n',
      ),
      "provisioning.attestation.identity_cert: URI https://example.com/c.pem is unsupported for 'provisioning.attestation.identity_cert'",
    ],
    [
      dps('  attestation:\n    method: x509\n    identity_cert: file://remote/c.pem\n    identity_pk: /k\n'),
      "provisioning.attestation.identity_cert: URI file://remote/c.pem is unsupported for 'provisioning.attestation.identity_cert'",
    ],
    [
      'provisioning:\n  source: dps\n  global_endpoint: not a url\n  scope_id: s\n  registration_id: r\n',
      'provisioning.global_endpoint: invalid URL "not a url"',
    ],
    [
      'provisioning:\n  source: dps\n  scope_id: s\n  registration_id: r\n',
      'provisioning.global_endpoint: missing required field',
    ],
    [
      'provisioning:\n  source: dps\n  global_endpoint: https://x\n  registration_id: r\n',
      'provisioning.scope_id: missing required field',
    ],
    ['provisioning:\n  source: external\n', 'provisioning.endpoint: missing required field'],
    [
      'provisioning:\n  source: manual\n  authentication:\n    method: x509\n    device_id: d\n    identity_cert: /c\n    identity_pk: /k\n',
      'provisioning.authentication.iothub_hostname: missing required field',
    ],
    [
      'provisioning:\n  source: manual\n  authentication:\n    method: sas\n',
      'provisioning.authentication.method: unknown value "sas", expected one of device_connection_string, x509',
    ],
    [
      'provisioning:\n  source: manual\n  authentication:\n    method: x509\n    iothub_hostname: h\n    device_id: d\n    identity_cert: /c\n    identity_pk: ftp://h/k\n',
      "provisioning.authentication.identity_pk: URI ftp://h/k is unsupported for 'provisioning.authentication.identity_pk'",
    ],
    [
      `${manual}  dynamic_reprovisioning: yes please\n`,
      'provisioning.dynamic_reprovisioning: expected a boolean, found a string',
    ],
    [`${manual}hostname: [a, b]\n`, 'hostname: expected a string, found a sequence'],
    [`${manual}hostname:\n`, 'hostname: missing required field'],
    [`${manual}homedir: ""\n`, 'homedir: must not be empty'],
    [
      `${manual}allow_elevated_docker_permissions: 1\n`,
      'allow_elevated_docker_permissions: expected a boolean, found an integer',
    ],
    [`${manual}agent: edgeAgent\n`, 'agent: expected a mapping, found a string'],
    [`${manual}agent:\n  name: ""\n`, 'agent.name: must not be empty'],
    [`${manual}agent:\n  config:\n    image: ~\n`, 'agent.config.image: missing required field'],
    [`${manual}agent:\n  env:\n    A: { b: c }\n`, 'agent.env.A: expected a string, found a mapping'],
    [
      `${manual}agent:\n  config:\n    createOptions: "{}"\n`,
      'agent.config.createOptions: expected a mapping, found a string',
    ],
    [
      `${manual}connect:\n  management_uri: tcp://127.0.0.1:1\n`,
      'connect.management_uri: unsupported scheme "tcp", expected one of http, unix',
    ],
    [
      `${manual}connect:\n  workload_uri: fd://iotedge.socket\n`,
      'connect.workload_uri: unsupported scheme "fd", expected one of http, unix',
    ],
    [
      `${manual}connect:\n  workload_uri: "unix:relative.sock"\n`,
      'connect.workload_uri: unix URL "unix:relative.sock" has no absolute socket path',
    ],
    [`${manual}listen:\n  workload_uri: "::nope"\n`, 'listen.workload_uri: invalid URL "::nope"'],
    [
      `${manual}listen:\n  management_uri: https://0.0.0.0:1\n`,
      'listen.management_uri: unsupported scheme "https", expected one of http, unix, fd',
    ],
    [
      `${manual}listen:\n  min_tls_version: ssl3\n`,
      'listen.min_tls_version: Unsupported TLS protocol version: ssl3 (expected tls1.0, tls1.1 or tls1.2)',
    ],
    [`${manual}moby_runtime:\n  uri: nope\n`, 'moby_runtime.uri: invalid URL "nope"'],
    [`${manual}moby_runtime:\n  network: ~\n`, 'moby_runtime.network: missing required field'],
    [
      `${manual}moby_runtime:\n  network:\n    ipv6: true\n`,
      'moby_runtime.network.name: missing required field',
    ],
    [
      `${manual}moby_runtime:\n  network:\n    name: n\n    ipv6: "yes"\n`,
      'moby_runtime.network.ipv6: expected a boolean, found a string',
    ],
    [
      `${manual}moby_runtime:\n  network:\n    name: n\n    ipam:\n      config: {}\n`,
      'moby_runtime.network.ipam.config: expected a sequence, found a mapping',
    ],
    [
      `${manual}moby_runtime:\n  network:\n    name: n\n    ipam:\n      config:\n        - gateway: [1]\n`,
      'moby_runtime.network.ipam.config[0].gateway: expected a string, found a sequence',
    ],
    [
      `${manual}certificates:\n  device_ca_pk: /b\n`,
      'certificates: device_ca_cert, device_ca_pk and trusted_ca_certs must be set together (missing device_ca_cert, trusted_ca_certs)',
    ],
    [
      `${manual}certificates:\n  device_ca_cert: /a\n  trusted_ca_certs: /c\n`,
      'certificates: device_ca_cert, device_ca_pk and trusted_ca_certs must be set together (missing device_ca_pk)',
    ],
    [
      `${manual}certificates:\n  device_ca_cert: /a\n  device_ca_pk: http://x/b\n  trusted_ca_certs: /c\n`,
      "certificates.device_ca_pk: URI http://x/b is unsupported for 'certificates.device_ca_pk'",
    ],
    [
      `${manual}certificates:\n  auto_generated_ca_lifetime_days: 65536\n`,
      'certificates.auto_generated_ca_lifetime_days: 65536 is out of range 0..65535',
    ],
    [
      `${manual}certificates:\n  auto_generated_ca_lifetime_days: 1.5\n`,
      'certificates.auto_generated_ca_lifetime_days: expected an integer, found a number',
    ],
    [`${manual}watchdog:\n  max_retries: -1\n`, 'watchdog.max_retries: -1 is out of range 0..4294967295'],
    [`${manual}watchdog: 3\n`, 'watchdog: expected a mapping, found an integer'],
  ];
  for (const [text, expected] of cases) {
    const error = configError(text);
    assert.equal(error.message, `${FILE}: ${expected}`);
    assert.equal(error.file, FILE);
    assert.equal(error.keyPath, expected.slice(0, expected.indexOf(':')));
  }
});

test('the largest u16 lifetime and a null watchdog retry limit are accepted', () => {
  const settings = parse(
    `${manual}certificates:\n  auto_generated_ca_lifetime_days: 65535\nwatchdog:\n  max_retries: ~\n`,
  );
  assert.equal(settings.certificates?.auto_generated_ca_lifetime_days, 65535);
  assert.deepEqual(settings.watchdog, {});
});

test('schema errors never quote the connection string or keys', () => {
  const secret = 'c2VjcmV0a2V5';
  for (const text of [
    `provisioning:\n  source: manual\n  device_connection_string: { key: "${secret}" }\n`,
    `provisioning:\n  source: manual\n  device_connection_string: "${CS}"\n  authentication: { method: x509 }\n`,
    dps(
      `  attestation:\n    method: symmetric_key\n    registration_id: [r]\n    symmetric_key: ${secret}\n`,
    ),
    dps(
      `  attestation:\n    method: symmetric_key\n    registration_id: r\n    symmetric_key: [${secret}]\n`,
    ),
  ]) {
    assert.doesNotMatch(configError(text).message, new RegExp(secret));
  }
});

test('YAML syntax errors report the 1-based line and column', () => {
  // ` hostname` is indented by one space under a mapping indented by two: js-yaml points at its `h`.
  const error = configError('provisioning:\n  source: manual\n hostname: "x"\n');
  assert.equal(error.line, 3);
  assert.equal(error.column, 2);
  assert.equal(
    error.message,
    `${FILE}: YAML syntax error at line 3, column 2: bad indentation of a mapping entry`,
  );

  const tab = configError('hostname: a\n\tagent: b\n');
  assert.equal(tab.line, 2);
  assert.equal(tab.column, 1);
  assert.match(tab.message, /line 2, column 1/);

  const duplicate = configError('hostname: a\nhostname: b\n');
  assert.equal(duplicate.line, 2);
  assert.equal(duplicate.column, 1);
  assert.match(duplicate.message, /duplicated mapping key/);
});

test('a document that is not a mapping is rejected', () => {
  assert.equal(
    configError('- a\n- b\n').message,
    `${FILE}: expected a mapping at the top level, found a sequence`,
  );
  assert.equal(
    configError('just text\n').message,
    `${FILE}: expected a mapping at the top level, found a string`,
  );
});

test('loadConfig reads the file and keeps the errno code when it cannot', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'config-load-'));
  try {
    const file = join(dir, 'config.yaml');
    await writeFile(file, `${manual}hostname: from-file\n`);
    const settings = await loadConfig(file, { IOTEDGE_HOMEDIR: '/srv/iotedge' });
    assert.equal(settings.hostname, 'from-file');
    assert.equal(settings.homedir, '/srv/iotedge');

    const missing = join(dir, 'absent.yaml');
    await assert.rejects(loadConfig(missing, {}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.code, 'ENOENT');
      assert.equal(error.file, missing);
      assert.equal(error.message, `Could not open file ${missing}: no such file (ENOENT)`);
      return true;
    });
    await assert.rejects(
      loadConfig(dir, {}),
      (error: unknown) => error instanceof ConfigError && error.code === 'EISDIR',
    );

    await writeFile(file, 'hostname: [\n');
    await assert.rejects(loadConfig(file, {}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.code, undefined);
      assert.ok(error.message.startsWith(`${file}: YAML syntax error at line 2, column 1`), error.message);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('several YAML documents in one file are a clear error, not a TypeError', () => {
  const error = configError(`${manual}---\nhostname: second\n`);
  assert.equal(
    error.message,
    `${FILE}: YAML error: expected a single document in the stream, but found more`,
  );
  assert.doesNotMatch(error.message, /TypeError|undefined/);
});

test('a FIFO, a device or an oversized file as config.yaml is refused at once, naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'config-load-'));
  const fifo = join(dir, 'config.yaml');
  execFileSync('mkfifo', [fifo]);
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('loadConfig waited for a writer to the FIFO')), 2000);
    });
    await Promise.race([
      assert.rejects(loadConfig(fifo, {}), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.code, 'EFTYPE');
        assert.equal(
          error.message,
          `Could not open file ${fifo}: is a FIFO (named pipe), not a regular file`,
        );
        return true;
      }),
      late,
    ]);
    await assert.rejects(
      loadConfig('/dev/zero', {}),
      (error: unknown) => error instanceof ConfigError && error.code === 'EFTYPE',
    );
    const big = join(dir, 'big.yaml');
    await writeFile(big, `# ${'x'.repeat(1024 * 1024)}\n`);
    await assert.rejects(loadConfig(big, {}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.code, 'EFBIG');
      assert.equal(error.message, `Could not open file ${big}: is larger than 1 MiB`);
      return true;
    });
  } finally {
    clearTimeout(timer);
    // a reader stuck in open() (as readFile would be) is released
    closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
    await rm(dir, { recursive: true, force: true });
  }
});

test("certificates.trusted_ca_certs may be given alone (a parent edge device's root CA); parent_hostname may carry a port", () => {
  const settings = parse(
    `${manual}parent_hostname: 127.0.0.1:18883\ncertificates:\n  trusted_ca_certs: /parent/root.pem\n`,
  );
  assert.equal(settings.certificates?.trusted_ca_certs, '/parent/root.pem');
  assert.equal(settings.certificates?.device_ca_cert, undefined);
  assert.equal(settings.parent_hostname, '127.0.0.1:18883');
});
