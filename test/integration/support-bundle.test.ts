import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { expectedEntries } from '../../src/cli/support-bundle/layout.js';
import type { HubStatusReport } from '../../src/runtime/daemon/management-types.js';
import { TestDaemon, manifest, nodeModule } from '../helpers/daemon.js';
import { REGISTRY_PASSWORD } from '../helpers/manifest-fixture.js';
import { MODULE_SCRIPT } from '../helpers/process-modules.js';
import { moduleLogs, sdkDeployment } from '../helpers/sdk-deployment.js';
import { cli, readZip } from '../helpers/support-bundle.js';
import { holdTestLock } from '../helpers/test-lock.js';

/**
 * `iotedge support-bundle` and `iotedge hub status` against a real daemon running process modules:
 * two written with the device SDK (one over AMQP, one over MQTT on a WebSocket) and one that prints its secrets.
 */

const ENV_SECRET = 'env-secret-Pa55w0rd-7781';
/** The key of the device connection string in TestDaemon's config.yaml. */
const DEVICE_KEY = 'c2VjcmV0a2V5MTIzNDU2Nzg=';
const SAS_SIG = 'QmFkU2lnbmF0dXJlMTIzNDU2Nzg5MA%3D%3D';
const SAS_TOKEN = `SharedAccessSignature sr=hub.example.net%2Fdevices%2Fedge-1&sig=${SAS_SIG}&se=1999999999`;
const SECRETS = [ENV_SECRET, REGISTRY_PASSWORD, DEVICE_KEY, SAS_SIG, decodeURIComponent(SAS_SIG)];

/** The deployment: the SDK pair (receiver over AMQP, sender over MQTT-WS), a leaky module, registry credentials. */
function deployment() {
  const document = sdkDeployment(
    {
      receiver: nodeModule('sdk-module.js', ['amqp', 'receiver']),
      sender: nodeModule('sdk-module.js', ['mqttws', 'sender', '5', 'receiver'], { startupOrder: 1 }),
    },
    { threshold: 5 },
    'amqp',
  );
  const desired = document.modulesContent.$edgeAgent['properties.desired'] as {
    runtime: { settings: Record<string, unknown> };
    modules: Record<string, unknown>;
  };
  desired.runtime.settings.registryCredentials = {
    acr: { address: 'registry.example.net', username: 'edge', password: REGISTRY_PASSWORD },
  };
  desired.modules.leaky = {
    type: 'process',
    status: 'running',
    restartPolicy: 'always',
    env: { DB_PASSWORD: { value: ENV_SECRET } },
    settings: {
      command: process.execPath,
      args: [
        MODULE_SCRIPT,
        'env',
        `out:connecting with ${SAS_TOKEN}`,
        `out:device key ${DEVICE_KEY} and registry ${REGISTRY_PASSWORD}`,
        `out:the database password is ${ENV_SECRET}`,
        'wait',
      ],
    },
  };
  return document;
}

function assertNoSecrets(entries: Map<string, string>): void {
  for (const [name, text] of entries)
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${name} holds the secret ${secret}`);
}

describe('support bundle and hub status against a daemon with SDK and process modules', () => {
  const daemon = new TestDaemon({}, [], 'localhost');
  const { logs, logged } = moduleLogs(daemon);
  let releasePorts: (() => Promise<void>) | undefined;
  const names = ['edgeAgent', 'edgeHub', 'leaky', 'receiver', 'sender'];

  before(async () => {
    releasePorts = await holdTestLock('iothub-ports');
    await daemon.start();
    const result = await daemon.request('POST', '/deployment', deployment());
    assert.equal(result.status, 200, result.body);
    await logged('receiver', 'seq=4');
    await logged('sender', 'invoked');
    await logged('leaky', 'the database password');
  });
  after(async () => {
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await daemon.cleanup();
    await releasePorts?.();
  });

  test('the secrets are really there to leak: the leaky module prints them', () => {
    const printed = logs('leaky');
    for (const secret of [ENV_SECRET, REGISTRY_PASSWORD, DEVICE_KEY, SAS_SIG])
      assert.ok(printed.includes(secret));
  });

  test('hub status --json: routes, clients with protocol and since, queues, counters, upstream', () => {
    const run = daemon.cli(['hub', 'status', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const status = JSON.parse(run.stdout) as HubStatusReport;
    assert.deepEqual(
      status.routes.map((route) => route.name),
      ['warm', 'all'],
    );
    assert.match(status.routes[0]!.route, /WHERE \$body\.temperature > 21/);
    const client = (id: string) => status.clients.find((entry) => entry.id === id);
    assert.equal(client('edge-1/receiver')?.protocol, 'AMQP');
    assert.equal(client('edge-1/sender')?.protocol, 'MQTT-WS');
    assert.ok(Date.parse(client('edge-1/receiver')!.connectedSince!) <= Date.now());
    assert.ok(status.counters.received >= 5, JSON.stringify(status.counters));
    assert.ok(status.counters.routed >= 5);
    assert.ok(status.counters.delivered >= 3, 'the receiver took the warm messages');
    assert.ok(status.queues.some((queue) => queue.endpoint === '$upstream'));
    // IoT Hub is out of reach from a test: the link is offline, and says where it would go
    assert.equal(status.upstream.target, 'hub.example.net:8883');
    assert.equal(status.upstream.connected, false);
    assert.ok(status.startTime && Date.parse(status.startTime) <= Date.now());
  });

  test('hub status text names the routes, the clients and the counters', () => {
    const run = daemon.cli(['hub', 'status']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Edge Hub: running since /);
    assert.match(run.stdout, /^Routes \(2\):\n {2}warm +FROM \/messages\/modules\/sender/m);
    assert.match(run.stdout, /^ {2}edge-1\/receiver +AMQP +since /m);
    assert.match(run.stdout, /^ {2}edge-1\/sender +MQTT-WS +since /m);
    assert.match(run.stdout, /^ {2}\$upstream: \d+ messages?/m);
    assert.match(run.stdout, /^ {2}received \d+ \(routed \d+, matching no route \d+\), delivered \d+/m);
  });

  test('support-bundle -o FILE: every expected entry, each secret absent from every file', async () => {
    const run = await cli(
      ['support-bundle', '-o', 'bundle.zip', '-c', daemon.configFile],
      daemon.host,
      daemon.dir,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^Making support bundle$/m);
    assert.match(
      run.stderr,
      new RegExp(`^Created support bundle at ${path.join(daemon.dir, 'bundle.zip')}$`, 'm'),
    );
    const entries = await readZip(readFileSync(path.join(daemon.dir, 'bundle.zip')));
    assert.deepEqual(
      [...entries.keys()].sort(),
      expectedEntries({ modules: names, edgeRuntimeOnly: false, daemonReachable: true }),
      entries.get('errors.txt'),
    );
    assertNoSecrets(entries);

    const leaky = entries.get('logs/leaky_log.txt')!;
    assert.match(leaky, /connecting with SharedAccessSignature \*\*\*/);
    assert.match(leaky, /the database password is \*\*\*/);
    assert.match(leaky, /"DB_PASSWORD":"\*\*\*"/);
    assert.match(entries.get('logs/receiver_log.txt')!, /input in1 seq=4/);
    assert.match(entries.get('logs/edgeHub_log.txt')!, /edge-1\/receiver connected/);
    assert.match(entries.get('logs/iotedged.txt')!, /agent: /);

    const check = JSON.parse(entries.get('check.json')!);
    assert.equal(check.checks['config-yaml-well-formed'].result, 'ok');
    assert.match(entries.get('check.txt')!, /^Configuration checks\n/);
    const inspect = JSON.parse(entries.get('inspect/leaky.json')!);
    assert.equal(inspect.module.name, 'leaky');
    assert.equal(
      inspect.module.config.env.find((e: { key: string }) => e.key === 'DB_PASSWORD').value,
      '***',
    );
    assert.ok(inspect.process.proc.pid > 0);
    assert.deepEqual(inspect.process.proc.cmdline.slice(0, 2), [process.execPath, MODULE_SCRIPT]);
    assert.match(entries.get('inspect/edgeHub.json')!, /runs inside iotedged/);
    const status = JSON.parse(entries.get('deployment/edgeAgent.json')!);
    assert.equal(status.reported.runtime.settings.registryCredentials.acr.password, '***');
    assert.ok(JSON.parse(entries.get('hub/status.json')!).clients.length >= 2);
    assert.equal(
      JSON.parse(entries.get('version.json')!).iotedged,
      JSON.parse(entries.get('system/systeminfo.json')!).version,
    );
    assert.ok(Array.isArray(JSON.parse(entries.get('system/host.json')!).system_info.disks));
  });

  test('support-bundle -o - streams a valid zip to stdout; -q keeps stderr quiet; -e keeps the runtime only', async () => {
    const run = await cli(
      ['support-bundle', '-o', '-', '-q', '-e', '-c', daemon.configFile],
      daemon.host,
      daemon.dir,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.equal(run.stdout.subarray(0, 4).toString('latin1'), 'PK\u0003\u0004');
    const entries = await readZip(run.stdout);
    assert.deepEqual(
      [...entries.keys()].sort(),
      expectedEntries({ modules: names, edgeRuntimeOnly: true, daemonReachable: true }),
    );
    assert.ok(!entries.has('logs/leaky_log.txt'));
    assertNoSecrets(entries);
  });

  test('with the daemon down: a clear error, and a bundle of what the CLI collects alone', async () => {
    const host = `unix://${path.join(daemon.dir, 'nobody.sock')}`;
    const run = await cli(['support-bundle', '-o', 'alone.zip', '-c', daemon.configFile], host, daemon.dir);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Could not connect to the IoT Edge daemon at unix:\/\/.*nobody\.sock/);
    assert.match(run.stderr, /holds only what could be collected without the daemon/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    const entries = await readZip(readFileSync(path.join(daemon.dir, 'alone.zip')));
    assert.deepEqual(
      [...entries.keys()].sort(),
      expectedEntries({ modules: [], edgeRuntimeOnly: false, daemonReachable: false }),
    );
    // the daemon's log read from its files
    assert.match(entries.get('logs/iotedged.txt')!, /hub: edge-1\/receiver connected/);
    assertNoSecrets(entries);
  });

  test('bad input: a wrong --since names the flag; an unwritable -o says where', async () => {
    const since = await cli(['support-bundle', '--since', 'yesterday-ish'], daemon.host, daemon.dir);
    assert.equal(since.code, 1);
    assert.match(since.stderr, /Invalid value for --since parameter/);
    const where = await cli(
      ['support-bundle', '-o', '/nonexistent-dir/b.zip', '-c', daemon.configFile],
      daemon.host,
      daemon.dir,
    );
    assert.equal(where.code, 1);
    assert.match(where.stderr, /Could not write the support bundle to \/nonexistent-dir\/b\.zip: ENOENT/);
    assert.doesNotMatch(where.stderr, /\n\s+at /);
  });
});

describe('hub status before any deployment', () => {
  const daemon = new TestDaemon();
  before(() => daemon.start());
  after(() => daemon.cleanup());

  test('says the Edge Hub is not running, in one line, exit 1', () => {
    for (const args of [
      ['hub', 'status'],
      ['hub', 'status', '--json'],
    ]) {
      const run = daemon.cli(args);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '');
      assert.equal(run.stderr, `The Edge Hub of the IoT Edge daemon at ${daemon.host} is not running\n`);
    }
  });
});
