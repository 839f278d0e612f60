import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT, eventually, hubListening, hubPorts, manifest, nodeModule, type TestDaemon } from './daemon.js';

const LEAF = path.join(ROOT, 'test/fixtures/leaf-device.js');

/** A leaf device process (test/fixtures/leaf-device.js) and what it printed. */
export class LeafDevice {
  output = '';
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(
    connectionString: string,
    ca: string,
    count: number,
    x509?: { cert: string; key: string },
    transport: 'mqtt' | 'amqp' | 'mqttws' | 'amqpws' = 'mqtt',
    /** Read the twin, report, and print desired patches (LEAF_TWIN). */
    twin = false,
    /** Then go on sending one message every so many ms, printing `acked SEQ` (LEAF_EVERY_MS). */
    everyMs?: number,
    /** More of the fixture's settings (LEAF_NO_RETRY, LEAF_REPORT_SIZES). */
    env: Record<string, string> = {},
  ) {
    this.process = spawn(process.execPath, [LEAF, String(count)], {
      env: {
        ...process.env,
        LEAF_CS: connectionString,
        LEAF_CA: ca,
        LEAF_CERT: x509?.cert,
        LEAF_KEY: x509?.key,
        LEAF_TRANSPORT: transport,
        LEAF_TWIN: twin ? '1' : undefined,
        LEAF_EVERY_MS: everyMs === undefined ? undefined : String(everyMs),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process.stdout!.on('data', (chunk) => (this.output += chunk));
    this.process.stderr!.on('data', (chunk) => (this.output += chunk));
    this.exited = new Promise((resolve) => this.process.once('exit', (code) => resolve(code)));
  }

  said(text: string | RegExp, timeoutMs = 20_000): Promise<string> {
    return eventually(
      async () =>
        (typeof text === 'string' ? this.output.includes(text) : text.test(this.output))
          ? this.output
          : undefined,
      `the leaf device to say ${text} (it said: ${JSON.stringify(this.output)})`,
      timeoutMs,
    );
  }

  /** The highest seq the gateway acknowledged so far in the steady mode (-1 before any). */
  lastAcked(): number {
    return Math.max(-1, ...[...this.output.matchAll(/^acked (\d+)$/gm)].map((match) => Number(match[1])));
  }

  stop(): Promise<number | null> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
    return this.exited;
  }
}

/**
 * The deployment of the leaf-device tests: an SDK receiver module over MQTT, and a route that
 * brings the leaf devices' telemetry to its input in1; the hub's ports as `createOptions` bind them.
 */
export function leafDeployment(createOptions: string) {
  const document = manifest({ receiver: nodeModule('sdk-module.js', ['receiver']) });
  const agent = document.modulesContent.$edgeAgent['properties.desired'] as {
    systemModules: { edgeHub: { settings: { createOptions: string } } };
  };
  agent.systemModules.edgeHub.settings.createOptions = createOptions;
  (document.modulesContent.$edgeHub['properties.desired'] as { routes: Record<string, string> }).routes = {
    leaves:
      'FROM /messages WHERE NOT IS_DEFINED($connectionModuleId) INTO BrokeredEndpoint("/modules/receiver/inputs/in1")',
  };
  return document;
}

/** `iotedge invoke DEVICE reboot`, which leaf-device.js answers with what it was asked. */
export function expectRebootAnswered(daemon: TestDaemon, deviceId: string): void {
  const invoked = daemon.cli([
    'invoke',
    deviceId,
    'reboot',
    '--payload',
    '{"in":5}',
    '--connect-timeout',
    '10',
  ]);
  assert.equal(invoked.code, 0, invoked.stderr);
  assert.deepEqual(JSON.parse(invoked.stdout), {
    status: 200,
    payload: { rebooting: true, asked: { in: 5 } },
  });
}

/** A self-signed device certificate made with openssl, and its SHA-256 thumbprint as IoT Hub shows it. */
export function selfSignedCertificate(
  dir: string,
  commonName: string,
): { cert: string; key: string; thumbprint: string } {
  const cert = path.join(dir, `${commonName}.cert.pem`);
  const key = path.join(dir, `${commonName}.key.pem`);
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${commonName}`,
  ]);
  assert.equal(made.status, 0, String(made.stderr));
  const fingerprint = spawnSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], {
    encoding: 'utf8',
  });
  const thumbprint = /=([0-9A-F:]+)/.exec(fingerprint.stdout)![1]!.replaceAll(':', '');
  return { cert, key, thumbprint };
}

/** The twins the hub saved (`<homedir>/hub/twins.json`) by identity; none before the first save. */
export type SavedTwins = Record<
  string,
  { desired: Record<string, unknown>; reported: Record<string, unknown> }
>;

export function savedTwins(daemon: TestDaemon): SavedTwins {
  const file = path.join(daemon.homedir, 'hub/twins.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { twins: SavedTwins }).twins : {};
}

/**
 * Deploys the hub alone on IoT Hub's own ports on loopback (the SDK dials 8883, 5671 or 443 of a
 * gateway named without a port), with `env` for edgeHub, and waits for it to listen. The caller
 * holds the `iothub-ports` test lock.
 */
export async function deployOnIotHubPorts(
  daemon: TestDaemon,
  env: Record<string, string> = {},
): Promise<void> {
  const document = manifest({});
  const edgeHub = (
    document.modulesContent.$edgeAgent['properties.desired'] as {
      systemModules: { edgeHub: { settings: { createOptions: string }; env?: unknown } };
    }
  ).systemModules.edgeHub;
  edgeHub.settings.createOptions = hubPorts(8883, 443, undefined, 5671);
  if (Object.keys(env).length > 0)
    edgeHub.env = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, { value }]));
  const result = await daemon.request('POST', '/deployment', document);
  assert.equal(result.status, 200, result.body);
  await hubListening(
    daemon,
    /AMQP on 127\.0\.0\.1:5671, HTTPS on 127\.0\.0\.1:443/,
    'the hub to listen on 8883, 5671 and 443',
  );
}

/**
 * Stops the leaf devices still running (with DEBUG_DAEMON, shows the output of those that did not
 * end well and the daemon's), then the daemon.
 */
export async function stopLeavesAndDaemon(leaves: LeafDevice[], daemon: TestDaemon): Promise<void> {
  for (const device of leaves)
    if ((await device.stop()) !== 0 && process.env.DEBUG_DAEMON) console.log(device.output);
  if (process.env.DEBUG_DAEMON) console.log(daemon.output);
  await daemon.cleanup();
}
