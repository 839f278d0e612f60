import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connectionStringCheck } from '../../src/checks/config/connection-string.js';
import {
  configLoadFailure,
  configYamlWellFormedCheck,
} from '../../src/checks/config/config-yaml-well-formed.js';
import { evaluateHostname, hostnameCheck } from '../../src/checks/config/hostname.js';
import type { CheckResult } from '../../src/checks/types.js';
import { ConfigError, parseConfig } from '../../src/runtime/config/load.js';
import type { Settings } from '../../src/runtime/config/settings.js';
import { testContext } from '../helpers/check-context.js';

const KEY = 'c2VjcmV0a2V5';
const CS = `HostName=hub.azure-devices.net;DeviceId=dev1;SharedAccessKey=${KEY}`;

const settingsFrom = (yaml: string): Settings => parseConfig(yaml, '/test/config.yaml', {});

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'config-checks-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const manualProvisioning = `provisioning:\n  source: manual\n  device_connection_string: "${CS}"\n`;
const manualYaml = `${manualProvisioning}hostname: edge1\n`;

function assertNoSecret(result: CheckResult): void {
  const text = JSON.stringify(result);
  assert.ok(!text.includes(KEY), `secret leaked: ${text}`);
}

// --- config-yaml-well-formed ---

test('config-yaml-well-formed: a valid file provides the settings', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, manualYaml);
    const ctx = testContext({ inputs: { configFile: file, env: { IOTEDGE_HOSTNAME: 'edge2' } } });
    const result = await configYamlWellFormedCheck.run(ctx);
    assert.equal(result.kind, 'ok');
    assert.equal(ctx.provided.settings?.hostname, 'edge2', 'environment overrides come from ctx.inputs.env');
    assert.deepEqual(configYamlWellFormedCheck.provides, ['settings']);
  });
});

test('config-yaml-well-formed: a missing file fails naming the file', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'nope.yaml');
    const ctx = testContext({ inputs: { configFile: file } });
    const result = await configYamlWellFormedCheck.run(ctx);
    assert.equal(result.kind, 'failed');
    assert.ok(result.kind === 'failed');
    assert.equal(result.message, `Could not open file ${file}`);
    assert.match(result.causes?.[0] ?? '', /ENOENT/);
    assert.equal(ctx.provided.settings, undefined);
  });
});

test('config-yaml-well-formed: a malformed file fails with the loader message as cause', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, 'provisioning:\n  source: manual\n hostname: x\n');
    const ctx = testContext({ inputs: { configFile: file } });
    const result = await configYamlWellFormedCheck.run(ctx);
    assert.ok(result.kind === 'failed');
    assert.equal(result.message, `The IoT Edge daemon's configuration file ${file} is not well-formed.`);
    assert.deepEqual(result.causes, [
      `${file}: YAML syntax error at line 3, column 2: bad indentation of a mapping entry`,
    ]);
    assert.equal(ctx.provided.settings, undefined);

    const verbose = await configYamlWellFormedCheck.run(
      testContext({ inputs: { configFile: file, verbose: true } }),
    );
    assert.ok(verbose.kind === 'failed');
    assert.equal(
      verbose.message,
      `The IoT Edge daemon's configuration file ${file} is not well-formed.\n` +
        'Note: In case of syntax errors, the error may not be exactly at the reported line number and position.',
    );

    await writeFile(file, `${manualProvisioning}  authentication:\n    method: x509\n`);
    const schema = await configYamlWellFormedCheck.run(testContext({ inputs: { configFile: file } }));
    assert.ok(schema.kind === 'failed');
    assert.deepEqual(schema.causes, [
      `${file}: provisioning: Only one of provisioning.device_connection_string or provisioning.authentication must be set in the config.yaml.`,
    ]);
    assertNoSecret(schema);
  });
});

test('config-yaml-well-formed: permission denied is fatal and suggests root (classification)', () => {
  const denied = new ConfigError('Could not open file /etc/iotedge/config.yaml', {
    file: '/etc/iotedge/config.yaml',
    code: 'EACCES',
    cause: new Error("EACCES: permission denied, open '/etc/iotedge/config.yaml'"),
  });
  assert.deepEqual(configLoadFailure(denied, '/etc/iotedge/config.yaml', false), {
    kind: 'fatal',
    message:
      'Could not open file /etc/iotedge/config.yaml. You might need to run this command as root (sudo iotedge check).',
    causes: ["EACCES: permission denied, open '/etc/iotedge/config.yaml'"],
  });
  const missing = new ConfigError('Could not open file /x', { file: '/x', code: 'ENOENT' });
  assert.equal(configLoadFailure(missing, '/x', false).kind, 'failed');
});

/**
 * A real permission failure. Root reads every file, so when the tests run as root the check runs in a
 * child process that has dropped to the `nobody` user.
 */
test('config-yaml-well-formed: an unreadable file gives a fatal result', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, manualYaml);
    await chmod(file, 0o000);
    let result: CheckResult;
    if (process.getuid?.() === 0) {
      const moduleUrl = new URL('../../src/checks/config/config-yaml-well-formed.js', import.meta.url).href;
      const script =
        `const { configYamlWellFormedCheck } = await import(${JSON.stringify(moduleUrl)});\n` +
        `const ctx = { inputs: { configFile: ${JSON.stringify(file)}, env: {}, verbose: false },` +
        ' signal: new AbortController().signal, fact: () => { throw new Error("no facts"); }, provide: () => {} };\n' +
        'process.stdout.write(JSON.stringify(await configYamlWellFormedCheck.run(ctx)));\n';
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        uid: 65534,
        gid: 65534,
      });
      result = JSON.parse(stdout) as CheckResult;
    } else {
      result = await configYamlWellFormedCheck.run(testContext({ inputs: { configFile: file } }));
    }
    assert.ok(result.kind === 'fatal', JSON.stringify(result));
    assert.equal(
      result.message,
      `Could not open file ${file}. You might need to run this command as root (sudo iotedge check).`,
    );
    assert.match(result.causes?.[0] ?? '', /EACCES/);
  });
});

// --- connection-string ---

test('connection-string: a manual connection string provides the hub and records hub and device', async () => {
  const ctx = testContext({ facts: { settings: settingsFrom(manualYaml) } });
  const result = await connectionStringCheck.run(ctx);
  assert.deepEqual(result, {
    kind: 'ok',
    additionalInfo: { iothub_hostname: 'hub.azure-devices.net', device_id: 'dev1' },
  });
  assert.equal(ctx.provided.iothubHostname, 'hub.azure-devices.net');
  assert.deepEqual(connectionStringCheck.needs, ['settings']);
  assert.deepEqual(connectionStringCheck.provides, ['iothubHostname']);
});

test("connection-string: under manual provisioning the connection string's hub wins over --iothub-hostname (as 1.1)", async () => {
  const ctx = testContext({
    inputs: { iothubHostname: 'cli.azure-devices.net' },
    facts: { settings: settingsFrom(manualYaml) },
  });
  assert.equal((await connectionStringCheck.run(ctx)).kind, 'ok');
  assert.equal(ctx.provided.iothubHostname, 'hub.azure-devices.net');

  const bad = settingsFrom(
    'provisioning:\n  source: manual\n  device_connection_string: "HostName=h;DeviceId=d"\n',
  );
  const second = testContext({
    inputs: { iothubHostname: 'cli.azure-devices.net' },
    facts: { settings: bad },
  });
  assert.equal((await connectionStringCheck.run(second)).kind, 'failed');
  assert.equal(second.provided.iothubHostname, undefined, 'the runner falls back to the flag');
});

test('connection-string: a malformed string fails with the parser message as cause', async () => {
  const settings = settingsFrom(
    `provisioning:\n  source: manual\n  device_connection_string: "HostName=bad host;DeviceId=d;SharedAccessKey=${KEY}"\n`,
  );
  const ctx = testContext({ facts: { settings } });
  const result = await connectionStringCheck.run(ctx);
  assert.deepEqual(result, {
    kind: 'failed',
    message:
      'Invalid connection string format detected.\nPlease check the value of the provisioning.device_connection_string parameter.',
    causes: ['The Connection String has a malformed value for parameter HostName.'],
    additionalInfo: { iothub_hostname: null, device_id: null },
  });
  assert.equal(ctx.provided.iothubHostname, undefined);
  assertNoSecret(result);
});

test('connection-string: the placeholder of the template is reported', async () => {
  const settings = settingsFrom(
    'provisioning:\n  source: manual\n  device_connection_string: "<ADD DEVICE CONNECTION STRING HERE>"\n',
  );
  const result = await connectionStringCheck.run(testContext({ facts: { settings } }));
  assert.ok(result.kind === 'failed');
  assert.match(result.causes?.[0] ?? '', /^Edge device information is required\./);
});

test('connection-string: authentication by connection string names its own key in the advice', async () => {
  const settings = settingsFrom(
    'provisioning:\n  source: manual\n  authentication:\n    method: device_connection_string\n    device_connection_string: ""\n',
  );
  const result = await connectionStringCheck.run(testContext({ facts: { settings } }));
  assert.ok(result.kind === 'failed');
  assert.match(result.message, /provisioning\.authentication\.device_connection_string parameter/);
  assert.match(result.causes?.[0] ?? '', /^The Connection String is empty\./);
});

test('connection-string: manual x509 takes the hub from authentication.iothub_hostname', async () => {
  const settings = settingsFrom(
    [
      'provisioning:',
      '  source: manual',
      '  authentication:',
      '    method: x509',
      '    iothub_hostname: x509hub.azure-devices.net',
      '    device_id: x509dev',
      '    identity_cert: file:///c.pem',
      '    identity_pk: file:///k.pem',
    ].join('\n'),
  );
  const ctx = testContext({ facts: { settings } });
  assert.deepEqual(await connectionStringCheck.run(ctx), {
    kind: 'ok',
    additionalInfo: { iothub_hostname: 'x509hub.azure-devices.net', device_id: 'x509dev' },
  });
  assert.equal(ctx.provided.iothubHostname, 'x509hub.azure-devices.net');
});

const dpsYaml = (homedir: string) =>
  `provisioning:\n  source: dps\n  global_endpoint: https://global.azure-devices-provisioning.net\n  scope_id: s\n  registration_id: r\nhomedir: ${homedir}\n`;

test('connection-string: dps reads the hub from the provisioning backup', async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, 'cache'));
    await writeFile(
      join(dir, 'cache', 'provisioning_backup.json'),
      JSON.stringify({
        device_id: 'dpsdev',
        hub_name: 'dpshub.azure-devices.net',
        credentials: { key: KEY },
      }),
    );
    const ctx = testContext({ facts: { settings: settingsFrom(dpsYaml(dir)) } });
    const result = await connectionStringCheck.run(ctx);
    assert.deepEqual(result, {
      kind: 'ok',
      additionalInfo: { iothub_hostname: 'dpshub.azure-devices.net', device_id: 'dpsdev' },
    });
    assert.equal(ctx.provided.iothubHostname, 'dpshub.azure-devices.net');
  });
});

test('connection-string: dps/external without a usable backup fails and suggests --iothub-hostname', async () => {
  await withTempDir(async (dir) => {
    const expectFailure = async (settings: Settings, cause: RegExp) => {
      const ctx = testContext({ facts: { settings } });
      const result = await connectionStringCheck.run(ctx);
      assert.ok(result.kind === 'failed', JSON.stringify(result));
      assert.equal(
        result.message,
        'Could not retrieve iothub_hostname from provisioning file.\n' +
          'Please specify the backing IoT Hub name using --iothub-hostname switch if you have that information.\n' +
          'If no hostname is provided, all hub connectivity tests will be skipped.',
      );
      assert.equal(result.causes?.[0], 'Could not restore previous provisioning result');
      assert.match(result.causes?.[1] ?? '', cause);
      assert.equal(ctx.provided.iothubHostname, undefined);
      assertNoSecret(result);
    };
    await expectFailure(settingsFrom(dpsYaml(dir)), /ENOENT/);
    const external = settingsFrom(
      `provisioning:\n  source: external\n  endpoint: http://127.0.0.1:1\nhomedir: ${dir}\n`,
    );
    await expectFailure(external, /ENOENT/);

    await mkdir(join(dir, 'cache'));
    const backup = join(dir, 'cache', 'provisioning_backup.json');
    await writeFile(backup, `{"credentials": {"key": "${KEY}"`);
    await expectFailure(settingsFrom(dpsYaml(dir)), /is not valid JSON$/);
    await writeFile(backup, JSON.stringify({ device_id: 'd', credentials: { key: KEY } }));
    await expectFailure(settingsFrom(dpsYaml(dir)), /has no hub_name$/);
  });
});

test('connection-string: dps with --iothub-hostname is ok without reading the backup', async () => {
  const ctx = testContext({
    inputs: { iothubHostname: 'cli.azure-devices.net' },
    facts: { settings: settingsFrom(dpsYaml('/nonexistent/home')) },
  });
  assert.deepEqual(await connectionStringCheck.run(ctx), {
    kind: 'ok',
    additionalInfo: { iothub_hostname: 'cli.azure-devices.net', device_id: null },
  });
  assert.equal(ctx.provided.iothubHostname, undefined);
});

// --- hostname ---

test('hostname: a mismatch fails naming both hostnames', () => {
  const result = evaluateHostname('other', 'edge1');
  assert.deepEqual(result, {
    kind: 'failed',
    message:
      'config.yaml has hostname other but device reports hostname edge1.\n' +
      'Hostname in config.yaml must either be identical to the device hostname ' +
      'or be a fully-qualified domain name that has the device hostname as the first component.',
    additionalInfo: { config_hostname: 'other', machine_hostname: 'edge1' },
  });
});

test('hostname: a matching but non-RFC1035 name warns', () => {
  const result = evaluateHostname('edge_1.contoso.com', 'edge_1');
  assert.ok(result.kind === 'warning');
  assert.match(
    result.message,
    /^config\.yaml has hostname edge_1\.contoso\.com which does not comply with RFC 1035\.\n\n/,
  );
  assert.match(result.message, /Not complying with RFC 1035 may cause errors during the TLS handshake/);
});

test('hostname: a matching RFC1035 name is ok', () => {
  assert.deepEqual(evaluateHostname('edge1.contoso.com', 'edge1'), {
    kind: 'ok',
    additionalInfo: { config_hostname: 'edge1.contoso.com', machine_hostname: 'edge1' },
  });
});

test('hostname: the check compares with this machine', async () => {
  const machine = hostname();
  const matching = await hostnameCheck.run(
    testContext({ facts: { settings: { ...settingsFrom(manualYaml), hostname: machine } } }),
  );
  assert.notEqual(matching.kind, 'failed');
  assert.deepEqual(matching.additionalInfo, { config_hostname: machine, machine_hostname: machine });

  const other = `not-${machine}`;
  const mismatched = await hostnameCheck.run(
    testContext({ facts: { settings: { ...settingsFrom(manualYaml), hostname: other } } }),
  );
  assert.ok(mismatched.kind === 'failed');
  assert.match(mismatched.message, new RegExp(`hostname ${other} but device reports hostname ${machine}\\.`));
});
