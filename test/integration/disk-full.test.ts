import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, manifest, nodeModule } from '../helpers/daemon.js';
import { ModuleCredentials, connect, end, hubEndpoint, type MqttClient } from '../helpers/mqtt-client.js';
import { SmallTmpfs } from '../helpers/small-tmpfs.js';

const HOSTNAME = 'localhost';

/** Sends a reported patch and resolves with the status of the hub's answer on the twin response topic. */
function patchReported(client: MqttClient, rid: string, patch: object): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no twin response for ${rid}`)), 15_000);
    const listener = (topic: string) => {
      const match = /^\$iothub\/twin\/res\/(\d+)\/\?\$rid=([^&]+)/.exec(topic);
      if (match?.[2] !== rid) return;
      clearTimeout(timer);
      client.removeListener('message', listener);
      resolve(Number(match[1]));
    };
    client.on('message', listener);
    client.publish(`$iothub/twin/PATCH/properties/reported/?$rid=${rid}`, JSON.stringify(patch), { qos: 0 });
  });
}

function getTwin(client: MqttClient, rid: string): Promise<{ reported: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no twin for ${rid}`)), 15_000);
    const listener = (topic: string, payload: Buffer) => {
      if (!topic.startsWith(`$iothub/twin/res/200/?$rid=${rid}`)) return;
      clearTimeout(timer);
      client.removeListener('message', listener);
      resolve(JSON.parse(payload.toString('utf8')) as { reported: Record<string, unknown> });
    };
    client.on('message', listener);
    client.publish(`$iothub/twin/GET/?$rid=${rid}`, ' ', { qos: 0 });
  });
}

describe("a full disk under the hub's twins", () => {
  const daemon = new TestDaemon({}, [], HOSTNAME);
  const hubDir = path.join(daemon.homedir, 'hub');
  mkdirSync(hubDir, { recursive: true });
  // the hub's directory (twins, sessions, leaf devices, its server certificate) is a small disk
  const mounted = SmallTmpfs.mount(512, hubDir);
  const disk = 'skip' in mounted ? undefined : mounted;
  let client: MqttClient | undefined;

  before(async () => {
    if (!disk) return;
    await daemon.start();
    const result = await daemon.request(
      'POST',
      '/deployment',
      manifest({ sensor: nodeModule('sleeper.js', ['60000']) }),
    );
    assert.equal(result.status, 200, result.body);
    const endpoint = await hubEndpoint(daemon, ['sensor'], HOSTNAME);
    client = await connect(endpoint, new ModuleCredentials(daemon, HOSTNAME).connectFields('sensor'));
    await new Promise<void>((resolve, reject) =>
      client!.subscribe('$iothub/twin/res/#', { qos: 0 }, (error) => (error ? reject(error) : resolve())),
    );
  });

  after(async () => {
    if (client) await end(client);
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await daemon.signal('SIGTERM');
    disk?.unmount();
    await daemon.cleanup();
  });

  test(
    'a patch that cannot be saved is answered 503, the daemon lives on, and acknowledged ones stay',
    {
      skip: 'skip' in mounted ? mounted.skip : false,
    },
    async () => {
      assert.equal(await patchReported(client!, 'first', { first: 1 }), 204);

      disk!.fill();
      assert.equal(await patchReported(client!, 'lost', { lost: true }), 503);
      assert.equal((await daemon.request('GET', '/modules')).status, 200, 'the daemon still answers');
      assert.equal(daemon.process?.exitCode, null, 'the daemon is alive');
      const saved = JSON.parse(readFileSync(path.join(hubDir, 'twins.json'), 'utf8')) as {
        twins: Record<string, { reported: Record<string, unknown> }>;
      };
      assert.deepEqual(
        saved.twins['edge-1/sensor']?.reported,
        { first: 1, $version: 2 },
        'the previous file is intact',
      );
      assert.deepEqual(
        readdirSync(hubDir).filter((name) => name.endsWith('.tmp')),
        [],
        'no temporary file left',
      );
      assert.deepEqual((await getTwin(client!, 'while-full')).reported, { first: 1, $version: 2 });

      disk!.free();
      assert.equal(await patchReported(client!, 'second', { second: 2 }), 204);
      assert.deepEqual((await getTwin(client!, 'after')).reported, { first: 1, second: 2, $version: 3 });
      const again = JSON.parse(readFileSync(path.join(hubDir, 'twins.json'), 'utf8')) as typeof saved;
      assert.deepEqual(again.twins['edge-1/sensor']?.reported, { first: 1, second: 2, $version: 3 });
      assert.match(daemon.output, /hub: twins not saved: could not save .*twins\.json: ENOSPC/);
    },
  );
});
