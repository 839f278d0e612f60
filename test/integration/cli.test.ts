import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CHECKS } from '../../src/checks/catalog.js';
import { closedPort } from '../helpers/tls-servers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version as string;
const allIds = CHECKS.map((check) => check.id);
const allBut = (...kept: string[]) => allIds.filter((id) => !kept.includes(id));
const allButWellFormed = allBut('config-yaml-well-formed');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'iotedge-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function iotedge(args: string[], env: NodeJS.ProcessEnv = {}) {
  const run = spawnSync(process.execPath, [path.join(root, 'bin/run.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('version, --version and -V print `iotedge <version>`', () => {
  for (const args of [['version'], ['--version'], ['-V']]) {
    const run = iotedge(args);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `iotedge ${version}\n`);
  }
});

test('without a subcommand the help goes to stderr and the exit code is 1', () => {
  for (const args of [[], ['-H', 'unix:///nowhere.sock']]) {
    const run = iotedge(args);
    assert.equal(run.code, 1, args.join(' '));
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /The iotedge tool is used to manage the IoT Edge runtime\./);
    assert.match(run.stderr, /\n {2}check-list {2}/);
  }
});

test('-H is accepted by every command, in any position: check and check-list ignore it', () => {
  const checkList = iotedge(['-H', 'unix:///nowhere.sock', 'check-list']);
  assert.equal(checkList.code, 0, checkList.stderr);
  assert.equal(checkList.stdout, readFileSync(path.join(root, 'test/golden/check-list.txt'), 'utf8'));
  const versionRun = iotedge(['version', '--host', 'not even a URI']);
  assert.equal(versionRun.code, 0, versionRun.stderr);
  assert.equal(versionRun.stdout, `iotedge ${version}\n`);
  const config = writeConfig(
    'host-flag.yaml',
    'provisioning:\n  source: manual\n  device_connection_string: "HostName=h.example.net;DeviceId=d;SharedAccessKey=c2VjcmV0a2V5MTIzNDU2Nzg="\n',
  );
  for (const args of [
    ['-H', 'unix:///nowhere.sock', 'check', '-c', config],
    ['check', '-c', config, '-H', 'not even a URI'],
  ]) {
    const run = iotedge([...args, '-o', 'json', '--dont-run', ...allButWellFormed]);
    assert.equal(JSON.parse(run.stdout).checks['config-yaml-well-formed'].result, 'ok', run.stderr);
  }
});

test('the oclif version command prints the same line as the fast lane', () => {
  const run = iotedge(['version', '--help']);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /USAGE\n {2}\$ iotedge version/);
});

test('check-list prints the golden table', () => {
  const run = iotedge(['check-list']);
  assert.equal(run.code, 0);
  assert.equal(run.stdout, readFileSync(path.join(root, 'test/golden/check-list.txt'), 'utf8'));
});

test('help lists the commands and -h works on each', () => {
  const help = iotedge(['help']);
  assert.equal(help.code, 0);
  for (const command of ['check', 'check-list', 'version'])
    assert.match(help.stdout, new RegExp(`\\n {2}${command} `));
  const checkHelp = iotedge(['check', '-h']);
  assert.equal(checkHelp.code, 0);
  assert.match(checkHelp.stdout, /--warnings-as-errors/);
});

test('unknown --dont-run ids are a usage error that lists the valid ids', () => {
  const run = iotedge(['check', '--dont-run', 'hostname', 'no-such-check']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /unknown check id\(s\): no-such-check/);
  assert.match(run.stderr, /\n {4}container-engine-dns\n/);
  assert.match(run.stderr, /\n {4}container-connect-iothub-mqtt\n/);
  assert.doesNotMatch(run.stderr, /at .*\.js:\d+/);
});

test('unknown flags are a usage error without a stack trace', () => {
  const run = iotedge(['check', '--no-such-flag']);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /Nonexistent flag: --no-such-flag/);
  assert.doesNotMatch(run.stderr, /at .*\.js:\d+/);
});

test('a malformed IOTEDGE_CHECK_IOTHUB_PORTS is reported clearly', () => {
  const run = iotedge(['check', '-c', path.join(tmp, 'none.yaml')], {
    IOTEDGE_CHECK_IOTHUB_PORTS: 'amqp=99999',
  });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /IOTEDGE_CHECK_IOTHUB_PORTS: "amqp=99999"/);
});

const offlineChecks = [
  'container-engine-uri',
  'connect-management-uri',
  'iotedged-version',
  'host-local-time',
  'container-local-time',
  'edge-agent-storage-mounted-from-host',
  'edge-hub-storage-mounted-from-host',
  'edgehub-host-ports',
  'host-connect-iothub-amqp',
  'host-connect-iothub-https',
  'host-connect-iothub-mqtt',
  'container-default-connect-iothub-amqp',
  'container-default-connect-iothub-https',
  'container-default-connect-iothub-mqtt',
  'container-connect-iothub-amqp',
  'container-connect-iothub-https',
  'container-connect-iothub-mqtt',
];

function writeConfig(name: string, body: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, body);
  return file;
}

test('check -o json on a good config prints one parseable document with every id', () => {
  const config = writeConfig(
    'good.yaml',
    [
      'provisioning:',
      '  source: manual',
      '  device_connection_string: "HostName=hub.example.net;DeviceId=dev1;SharedAccessKey=c2VjcmV0a2V5MTIzNDU2Nzg="',
      `hostname: ${os.hostname()}`,
      `homedir: ${tmp}/home`,
    ].join('\n'),
  );
  const run = iotedge(['check', '-c', config, '-o', 'json', '--dont-run', ...offlineChecks]);
  const document = JSON.parse(run.stdout);
  assert.equal(run.stdout.trim().split('\n').length, 1);
  assert.deepEqual(Object.keys(document.checks).sort(), Object.keys(document.checks));
  assert.equal(document.checks['config-yaml-well-formed'].result, 'ok');
  assert.equal(document.checks['connection-string'].result, 'ok');
  assert.equal(document.checks.hostname.result, 'ok');
  assert.equal(document.checks['container-engine-uri'].result, 'ignored');
  assert.equal(document.checks['windows-host-version'].result, 'ignored');
  assert.equal(document.additional_info.os.arch.length > 0, true);
  assert.match(document.additional_info.now, /^\d{4}-\d\d-\d\dT/);
  assert.doesNotMatch(run.stdout, /c2VjcmV0a2V5MTIzNDU2Nzg/, 'the shared access key must never be printed');
  assert.equal(run.code, document.checks['certificates-quickstart'].result === 'error' ? 1 : run.code);
});

test('malformed YAML: the well-formed check fails naming line and column, dependants are skipped', () => {
  const config = writeConfig('bad.yaml', 'provisioning:\n  source: manual\n hostname: [unclosed\n');
  const run = iotedge(['check', '-c', config, '--verbose', '--dont-run', ...offlineChecks]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /× config.yaml is well-formed - Error\n {4}.*not well-formed/);
  assert.match(run.stdout, /line 3/);
  assert.match(
    run.stdout,
    /‼ config.yaml has correct hostname - Warning\n {4}skipping because of previous failures/,
  );
  assert.match(run.stdout, /check\(s\) were skipped due to errors from other checks\.\n/);
  assert.equal(run.stderr, '\n');
});

test('a missing config file is an error naming the file, and the run still completes', () => {
  const missing = path.join(tmp, 'missing.yaml');
  const run = iotedge(['check', '-c', missing, '--dont-run', ...offlineChecks]);
  assert.equal(run.code, 1);
  assert.ok(run.stdout.includes(missing));
  assert.match(run.stdout, /\d+ check\(s\) succeeded\.\n/);
});

test('a missing container engine fails its check with the URI; container checks are skipped, others run', () => {
  const socket = path.join(tmp, 'no-docker.sock');
  const config = writeConfig(
    'no-engine.yaml',
    [
      'provisioning:',
      '  source: manual',
      '  device_connection_string: "HostName=hub.example.net;DeviceId=dev1;SharedAccessKey=c2VjcmV0a2V5MTIzNDU2Nzg="',
      `hostname: ${os.hostname()}`,
      `homedir: ${tmp}/home`,
      'moby_runtime:',
      `  uri: unix://${socket}`,
    ].join('\n'),
  );
  const run = iotedge([
    'check',
    '-c',
    config,
    '-o',
    'json',
    '--dont-run',
    'iotedged-version',
    'host-local-time',
    'host-connect-iothub-amqp',
    'host-connect-iothub-https',
    'host-connect-iothub-mqtt',
  ]);
  assert.equal(run.code, 1);
  const { checks } = JSON.parse(run.stdout);
  assert.equal(checks['container-engine-uri'].result, 'error');
  assert.ok(checks['container-engine-uri'].details.join('\n').includes(`unix://${socket}`));
  for (const id of [
    'container-local-time',
    'connect-management-uri',
    'container-default-connect-iothub-mqtt',
  ]) {
    assert.equal(checks[id].result, 'skipped', id);
  }
  assert.equal(checks.hostname.result, 'ok');
  assert.equal(checks['connection-string'].result, 'ok');
});

test("under manual provisioning the connection string's hub wins over --iothub-hostname, as 1.1", async () => {
  const port = await closedPort();
  const config = writeConfig(
    'hub-precedence.yaml',
    [
      'provisioning:',
      '  source: manual',
      '  device_connection_string: "HostName=localhost;DeviceId=dev1;SharedAccessKey=c2VjcmV0a2V5MTIzNDU2Nzg="',
      `homedir: ${tmp}/home`,
    ].join('\n'),
  );
  const kept = ['config-yaml-well-formed', 'connection-string', 'host-connect-iothub-amqp'];
  const run = iotedge(
    [
      'check',
      '-c',
      config,
      '--iothub-hostname',
      'flag-hub.invalid',
      '-o',
      'json',
      '--dont-run',
      ...allBut(...kept),
    ],
    { IOTEDGE_CHECK_IOTHUB_PORTS: `amqp=${port}` },
  );
  const { checks } = JSON.parse(run.stdout);
  assert.equal(checks['connection-string'].additional_info.iothub_hostname, 'localhost');
  const amqp = checks['host-connect-iothub-amqp'];
  assert.equal(amqp.additional_info.iothub_hostname, 'localhost');
  assert.equal(amqp.details[0], `Could not connect to localhost:${port}`);
  assert.equal(amqp.details[1], `connection refused by localhost:${port}`);
});
