import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ROOT, TestDaemon, eventually, manifest, nodeModule } from '../helpers/daemon.js';
import {
  ModuleCredentials,
  closed,
  connect,
  end,
  hubEndpoint,
  mqttAddress,
  type MqttClient,
} from '../helpers/mqtt-client.js';

/**
 * edgeAgent and edgeHub are embedded in iotedged, yet `iotedge logs` and `iotedge restart` treat
 * them as modules: their logs are their lines of the daemon's log, and restarting them restarts
 * the agent (it reads its local config file again) or the hub (clients reconnect).
 */

const HOSTNAME = 'localhost';
const configDir = mkdtempSync(path.join(os.tmpdir(), 'iotedged-local-config-'));
const localConfig = path.join(configDir, 'deployment.json');
/** Writes the local config file: process modules, and desired properties for some of them. */
function deploy(modules: string[], desired: Record<string, Record<string, unknown>> = {}): void {
  const document = manifest(
    Object.fromEntries(modules.map((name) => [name, nodeModule('sleeper.js', ['60000'])])),
  );
  for (const [module, properties] of Object.entries(desired))
    Object.assign(document.modulesContent, { [module]: { 'properties.desired': properties } });
  writeFileSync(localConfig, JSON.stringify(document));
}

/** `promise`, or a failure naming `what` after 15 s. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 15_000).unref(),
    ),
  ]);
}

const lines = (text: string) => text.split('\n').filter((line) => line !== '');

/** Runs `iotedge ARGS` against the daemon until stopped, collecting its stdout. */
function follow(daemon: TestDaemon, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/run.js'), ...args], {
    env: { ...process.env, IOTEDGE_HOST: daemon.host },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

describe('edgeAgent and edgeHub: their logs and restarts', () => {
  const daemon = new TestDaemon({ ConfigSource: 'local', LocalConfigPath: localConfig }, [], HOSTNAME);
  const credentials = new ModuleCredentials(daemon, HOSTNAME);
  const modules = async () =>
    (
      await daemon.json<{
        modules: { name: string; status: { startTime?: string; runtimeStatus: { status: string } } }[];
      }>('GET', '/modules')
    ).modules;
  const statusOf = async (name: string) =>
    (await modules()).find((module) => module.name === name)?.status.runtimeStatus.status;

  before(async () => {
    deploy(['first']);
    await daemon.start();
    await eventually(
      async () => ((await statusOf('first')) === 'running' ? true : undefined),
      'first running',
    );
  });
  after(async () => {
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    await daemon.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  test('logs edgeAgent shows the agent lines and not the hub lines, and the reverse; system logs shows all', async () => {
    const agent = await eventually(async () => {
      const printed = daemon.cli(['logs', 'edgeAgent']);
      assert.equal(printed.code, 0, printed.stderr);
      return /create first/.test(printed.stdout) ? printed.stdout : undefined;
    }, 'the agent to log its plan');
    const hub = daemon.cli(['logs', 'edgeHub']);
    assert.equal(hub.code, 0, hub.stderr);
    assert.match(hub.stdout, /^server certificate for localhost valid until /m);
    assert.match(hub.stdout, /^MQTT on 127\.0\.0\.1:\d+, HTTPS on 127\.0\.0\.1:\d+$/m);

    assert.doesNotMatch(agent, /server certificate|MQTT on/, 'no hub line in the agent log');
    assert.doesNotMatch(hub.stdout, /create first/, 'no agent line in the hub log');
    for (const output of [agent, hub.stdout]) {
      assert.doesNotMatch(output, /management API on unix:/, 'the daemon lines are in system logs only');
      assert.doesNotMatch(output, /^(agent|hub): /m, 'a module log shows its lines without their tag');
    }

    const system = daemon.cli(['system', 'logs']);
    assert.equal(system.code, 0, system.stderr);
    assert.match(system.stdout, /^iotedged \S+: management API on unix:\/\/.*mgmt\.sock/m);
    assert.match(system.stdout, /^agent: .*create first/m);
    assert.match(system.stdout, /^hub: server certificate for localhost/m);

    // stderr keeps every line, as journald reads it; the files are under the homedir
    assert.match(daemon.output, /Z agent: .*create first/);
    assert.match(daemon.output, /Z hub: server certificate for localhost/);
    assert.ok(existsSync(path.join(daemon.homedir, 'logs', 'iotedged', 'current.log')));
  });

  test('--tail, --since, --until and -t work on edgeAgent, edgeHub and the system log', () => {
    const tail = daemon.cli(['logs', 'edgeHub', '--tail', '1']);
    assert.equal(tail.code, 0, tail.stderr);
    assert.equal(lines(tail.stdout).length, 1);
    const systemTail = daemon.cli(['system', 'logs', '--tail', '3']);
    assert.equal(lines(systemTail.stdout).length, 3);

    const stamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z \S/;
    const stamped = daemon.cli(['logs', 'edgeAgent', '--tail', '1', '-t']);
    assert.equal(lines(stamped.stdout).length, 1);
    assert.match(stamped.stdout, stamp);
    const systemStamped = daemon.cli(['system', 'logs', '--tail', '2', '-t']);
    assert.equal(lines(systemStamped.stdout).length, 2);
    for (const line of lines(systemStamped.stdout)) assert.match(line, stamp);

    assert.equal(daemon.cli(['logs', 'edgeAgent', '--until', '2000-01-01T00:00:00Z']).stdout, '');
    assert.equal(daemon.cli(['logs', 'edgeHub', '--since', '2099-01-01T00:00:00Z']).stdout, '');
    assert.equal(daemon.cli(['system', 'logs', '--since', '2099-01-01T00:00:00Z']).stdout, '');
    assert.match(daemon.cli(['logs', 'edgeAgent', '--since', '10 minutes']).stdout, /create first/);

    const bad = daemon.cli(['system', 'logs', '--tail', 'some']);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr.trim(),
      "Invalid value for --tail parameter: 'some'. Use a number of lines or all.",
    );
  });

  test('-f follows the new lines of edgeAgent and of the system log', async () => {
    const agent = follow(daemon, ['logs', 'edgeAgent', '-f', '--tail', '1']);
    const system = follow(daemon, ['system', 'logs', '-f', '--tail', '1']);
    try {
      // a follower that printed its tail is following
      await eventually(
        async () => (agent.output() && system.output() ? true : undefined),
        'both followers to print their tail',
      );
      assert.doesNotMatch(agent.output() + system.output(), /restarting/);
      const restarted = daemon.cli(['restart', 'edgeAgent']);
      assert.equal(restarted.code, 0, restarted.stderr);
      await eventually(
        async () => (/^restarting: reading the deployment again$/m.test(agent.output()) ? true : undefined),
        'the agent follower to show the restart',
      );
      await eventually(
        async () =>
          /^agent: restarting: reading the deployment again$/m.test(system.output()) ? true : undefined,
        'the system follower to show the restart',
      );
    } finally {
      agent.child.kill('SIGINT');
      system.child.kill('SIGINT');
    }
  });

  test('restart edgeAgent applies a changed local config file; an unreadable one is a clear error', async () => {
    deploy(['second']);
    assert.equal(await statusOf('second'), undefined, 'nothing reads the file on its own');
    const started = async () =>
      Date.parse((await modules()).find((module) => module.name === 'edgeAgent')?.status.startTime ?? '');
    const startedBefore = await started();
    const restarted = daemon.cli(['restart', 'edgeAgent']);
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.equal(restarted.stdout, 'edgeAgent\n');
    assert.ok((await started()) > startedBefore, 'edgeAgent shows the time it restarted');
    await eventually(
      async () => ((await statusOf('second')) === 'running' ? true : undefined),
      'the module of the new file to run',
    );
    await eventually(
      async () => ((await statusOf('first')) === undefined ? true : undefined),
      'the module the file dropped to go',
    );

    writeFileSync(localConfig, '{ not json');
    const broken = daemon.cli(['restart', 'edgeAgent']);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /edgeAgent could not restart: .*deployment\.json: not valid JSON/);
    assert.doesNotMatch(broken.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(await statusOf('second'), 'running', 'the running deployment stays');
    deploy(['second']);
  });

  test('restart edgeHub ends client connections; a client reconnects with its session and is served', async () => {
    const endpoint = await hubEndpoint(daemon, ['second'], HOSTNAME);
    const fields = { ...credentials.connectFields('second'), clean: false };
    const client = await connect(endpoint, fields);
    for (const topic of ['$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#']) {
      await new Promise<void>((resolve, reject) =>
        client.subscribe(topic, { qos: 0 }, (error) => (error ? reject(error) : resolve())),
      );
    }
    const disconnected = closed(client);

    const restarted = daemon.cli(['restart', 'edgeHub']);
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.equal(restarted.stdout, 'edgeHub\n');
    await within(disconnected, 'the hub to end the connection');
    assert.equal(await statusOf('edgeHub'), 'running');

    // the listeners are bound again (on new ports: the deployment asks for port 0) and serve
    const again: MqttClient = await connect({ ...endpoint, ...(await mqttAddress(daemon)) }, fields);
    try {
      const message = (pattern: RegExp) =>
        new Promise<string>((resolve) =>
          again.on('message', (topic, payload) => {
            if (pattern.test(topic)) resolve(payload.toString());
          }),
        );
      const answer = message(/^\$iothub\/twin\/res\/200\/\?\$rid=7/);
      again.publish('$iothub/twin/GET/?$rid=7', '', { qos: 0 });
      assert.ok(JSON.parse(await within(answer, 'the twin response')), 'the twin');
      // the client does not subscribe again, yet hears of a desired change: the hub kept its session
      const patch = message(/^\$iothub\/twin\/PATCH\/properties\/desired\//);
      deploy(['second'], { second: { threshold: 9 } });
      assert.equal(daemon.cli(['restart', 'edgeAgent']).code, 0);
      assert.equal(
        (JSON.parse(await within(patch, 'the desired patch')) as { threshold: number }).threshold,
        9,
      );
    } finally {
      await end(again);
    }
    const hubLog = daemon.cli(['logs', 'edgeHub', '--since', '1 minute']).stdout;
    assert.match(hubLog, /^restarting: closing listeners and client connections$/m);
    assert.match(hubLog, /^edge-1\/second connected$/m);
  });

  test('edgeAgent and edgeHub can be restarted, not started or stopped on their own', async () => {
    const stop = await daemon.request('POST', '/modules/edgeHub/stop');
    assert.equal(stop.status, 400);
    assert.match(
      (JSON.parse(stop.body) as { message: string }).message,
      /edgeHub is embedded in iotedged: it can be restarted, not started or stopped/,
    );
    assert.equal((await daemon.request('POST', '/modules/edgeAgent/start')).status, 400);
  });
});
