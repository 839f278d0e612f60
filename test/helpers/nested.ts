import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { ROOT, TestDaemon, eventually, manifest } from './daemon.js';

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
