import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT, TestDaemon, eventually, hubPorts, manifest } from './daemon.js';

/** The parent's quickstart root CA, which a child trusts through `trusted_ca_certs`. */
export function rootCaOf(daemon: TestDaemon): string {
  return path.join(daemon.homedir, 'hsm/certs/edge_owner_ca.cert.pem');
}

/**
 * A child edge device of `parent` (not started): `parent_hostname` on the parent's MQTT port, the
 * parent's root CA trusted, the connection string `identity add --edge` printed on the parent, and a
 * 2 s upstream keepalive so that a stopped parent is noticed quickly.
 */
export function childDaemon(
  parent: TestDaemon,
  parentMqttPort: number,
  connectionString: string,
): TestDaemon {
  const child = new TestDaemon(
    {},
    [
      `parent_hostname: 127.0.0.1:${parentMqttPort}`,
      'certificates:',
      `  trusted_ca_certs: ${rootCaOf(parent)}`,
    ],
    'localhost',
  );
  writeFileSync(
    child.configFile,
    readFileSync(child.configFile, 'utf8').replace(
      /device_connection_string: ".*"/,
      `device_connection_string: "${connectionString}"`,
    ),
  );
  child.env.IOTEDGE_UPSTREAM_KEEPALIVE_SECS = '2';
  return child;
}

/** Ends the daemons (children first), each with an empty deployment so that its modules stop. */
export async function cleanupDaemons(...daemons: (TestDaemon | undefined)[]): Promise<void> {
  if (process.env.DEBUG_DAEMON) console.log(...daemons.map((daemon) => daemon?.output));
  for (const daemon of daemons) {
    if (!daemon) continue;
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await daemon.cleanup();
  }
}

/**
 * Runs the SDK leaf device `deviceId` (test/fixtures/leaf-device.js) connected to `child` and checks
 * that `parent` reaches it through the child: a cloud-to-device message arrives with its properties
 * and message id, and the direct method `reboot` is answered.
 */
export async function expectLeafReachedFromParent(
  parent: TestDaemon,
  child: TestDaemon,
  deviceId: string,
  connectionString: string,
): Promise<void> {
  const leaf = spawn(process.execPath, [path.join(ROOT, 'test/fixtures/leaf-device.js'), '0'], {
    env: { ...process.env, LEAF_CS: connectionString, LEAF_CA: rootCaOf(child) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  leaf.stdout.on('data', (chunk) => (output += chunk));
  leaf.stderr.on('data', (chunk) => (output += chunk));
  try {
    await eventually(async () => (output.includes('connected') ? true : undefined), 'the leaf connected');
    // the child opens the leaf's channel upstream once the leaf is connected to it
    const sent = await eventually(
      async () => {
        const result = await parent.cliAsync(['send', deviceId, 'hello', '--props', 'k=v']);
        return result.code === 0 ? result : undefined;
      },
      `the parent to reach ${deviceId} through the child`,
      30_000,
    );
    const received = await eventually(
      async () => /^c2d hello id=(\S+) cid=\S* props=\{"k":"v"\}$/m.exec(output)?.[1],
      'the C2D message at the leaf',
    );
    assert.ok(sent.stdout.includes(received), 'the message id the parent gave it');
    const invoked = await parent.cliAsync(['invoke', deviceId, 'reboot', '--payload', '{"a":1}']);
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.deepEqual(JSON.parse(invoked.stdout), {
      status: 200,
      payload: { rebooting: true, asked: { a: 1 } },
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}; the leaf printed:\n${output}`);
  } finally {
    leaf.kill('SIGKILL');
  }
}

/** Where a deployment binds the hub's listeners on 127.0.0.1 (0: any port; AMQP unbound when absent). */
export interface HubPortSet {
  mqtt: number;
  https: number;
  amqp?: number;
}

/**
 * A deployment with the given modules and routes; the hub's MQTT on `ports` (a number: MQTT alone,
 * 0 any), its edgeHub `UpstreamProtocol` set when given.
 */
export function nestedDeployment(
  modules: Record<string, Record<string, unknown>>,
  routes: Record<string, string>,
  ports: number | HubPortSet = 0,
  upstreamProtocol?: string,
) {
  const document = manifest(modules);
  const agent = document.modulesContent.$edgeAgent['properties.desired'] as {
    systemModules: {
      edgeHub: { settings: { createOptions: string }; env?: Record<string, { value: string }> };
    };
  };
  const bound = typeof ports === 'number' ? { mqtt: ports, https: 0 } : ports;
  agent.systemModules.edgeHub.settings.createOptions = hubPorts(
    bound.mqtt,
    bound.https,
    undefined,
    bound.amqp,
  );
  if (upstreamProtocol !== undefined)
    agent.systemModules.edgeHub.env = { UpstreamProtocol: { value: upstreamProtocol } };
  document.modulesContent.$edgeHub['properties.desired'].routes = routes;
  return document;
}

/** The seqs in the recorder's file, in the order they arrived. */
export function recorded(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => Number(line.split(' ')[0]));
}

/** Writes `document` as a manifest file in the daemon's directory (for `iotedge deploy FILE`). */
export function writeManifest(daemon: TestDaemon, document: unknown): string {
  const file = path.join(daemon.dir, `manifest-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(document));
  return file;
}

/** The upstream link as `iotedge system status --json` shows it. */
export interface UpstreamJson {
  protocol: string;
  target: string;
  requestedProtocol?: string;
  connected: boolean;
  /** Since when it is connected (or, while not, disconnected). */
  since: string;
  connections: number;
  refused: number;
}

/** The daemon's upstream link (`iotedge system status --json`); undefined while it cannot say. */
export function upstreamOf(daemon: TestDaemon): UpstreamJson | undefined {
  const run = daemon.cli(['system', 'status', '--json']);
  if (run.code !== 0) return undefined;
  return (JSON.parse(run.stdout) as { upstream?: UpstreamJson }).upstream;
}

/** The modules running on `daemon` (edgeAgent and edgeHub aside), by name. */
export function runningModules(daemon: TestDaemon): string[] {
  const listed = daemon.cli(['list', '--json']);
  const { modules } = JSON.parse(listed.stdout) as {
    modules: { name: string; status: { runtimeStatus: { status: string } } }[];
  };
  return modules
    .filter(
      (module) =>
        module.status.runtimeStatus.status === 'running' && !['edgeAgent', 'edgeHub'].includes(module.name),
    )
    .map((module) => module.name)
    .sort();
}

/**
 * Waits until `deploy --status --device DEVICE` on `parent` shows `module` running (what the child's
 * agent reported up) and checks that the deployment it reports was accepted (200).
 */
export async function expectReportedRunning(parent: TestDaemon, deviceId: string, module: string) {
  const reported = await eventually(
    async () => {
      const status = parent.cli(['deploy', '--status', '--device', deviceId]);
      if (status.code !== 0) return undefined;
      const report = JSON.parse(status.stdout) as {
        lastDesiredStatus?: { code: number };
        modules?: Record<string, { runtimeStatus?: string }>;
      };
      return report.modules?.[module]?.runtimeStatus === 'running' ? report : undefined;
    },
    `${deviceId}'s report of ${module} running, at the parent`,
    30_000,
  );
  assert.equal(reported.lastDesiredStatus?.code, 200);
}

/** Invokes `ping` on `target` (`device/module`) through `daemon`; the SDK module answers with its name. */
export async function expectPingAnswered(
  daemon: TestDaemon,
  target: string,
  payload: Record<string, unknown>,
): Promise<void> {
  const invoked = await daemon.cliAsync(['invoke', target, 'ping', '--payload', JSON.stringify(payload)]);
  assert.equal(invoked.code, 0, invoked.stderr);
  assert.deepEqual(JSON.parse(invoked.stdout), {
    status: 200,
    payload: { pong: payload, from: target.split('/')[1] },
  });
}
