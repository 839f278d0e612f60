import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually } from '../helpers/daemon.js';
import { LeafDevice, deployOnIotHubPorts, savedTwins, stopLeavesAndDaemon } from '../helpers/leaf-device.js';
import type { SdkTransport } from '../helpers/sdk-deployment.js';
import { holdTestLock } from '../helpers/test-lock.js';

/*
 * The device-twin cells of the conformance matrix: a leaf device written with the SDK, over each of
 * its transports, reads its twin, patches reported properties, and hears desired patches that the
 * service side (PATCH /devices/{id}/twin, IoT Hub's twin update) makes while it is connected.
 */

describe('leaf devices with the SDK use their twin through the hub, over every transport', () => {
  const daemon = new TestDaemon({}, [], 'localhost');
  const leaves: LeafDevice[] = [];
  let releasePorts: (() => Promise<void>) | undefined;
  let ca: string;

  const twins = () => savedTwins(daemon);
  const patchDesired = (id: string, body: unknown) =>
    daemon.request('PATCH', `/devices/${encodeURIComponent(id)}/twin`, body);

  before(async () => {
    releasePorts = await holdTestLock('iothub-ports');
    await daemon.start();
    ca = path.join(daemon.homedir, 'hsm', 'certs', 'edge_owner_ca.cert.pem');
    await deployOnIotHubPorts(daemon);
  });
  after(async () => {
    // each test stops its device; one that failed midway is stopped here
    await stopLeavesAndDaemon(leaves, daemon);
    await releasePorts?.();
  });

  for (const transport of ['mqtt', 'amqp', 'mqttws', 'amqpws'] as const satisfies SdkTransport[]) {
    test(`${transport}: twin get, reported patch, desired patch notification`, async () => {
      const id = `twin-${transport}`;
      const added = daemon.cli(['identity', 'add', id, '--json']);
      assert.equal(added.code, 0, added.stderr);
      const key = (JSON.parse(added.stdout) as { primaryKey: string }).primaryKey;

      // desired properties set before the device connects come with its twin
      const first = await patchDesired(id, { properties: { desired: { threshold: 1, mode: 'a' } } });
      assert.equal(first.status, 200, first.body);
      assert.deepEqual(JSON.parse(first.body), { deviceId: id, version: 2 });

      const connectionString = `HostName=hub.example.net;DeviceId=${id};SharedAccessKey=${key};GatewayHostName=localhost`;
      const device = new LeafDevice(connectionString, ca, 0, undefined, transport, true);
      leaves.push(device);
      const said = await device.said('reported');
      assert.match(said, /^twin \{"threshold":1,"mode":"a","\$version":2\}$/m);
      const reported = await eventually(
        async () => (twins()[id]?.reported.ready === true ? twins()[id]!.reported : undefined),
        `${id}'s reported properties saved`,
      );
      assert.equal(reported.transport, transport);

      // a change while it is connected reaches it as a patch: only what changed, nulls for removals
      const second = await patchDesired(id, { properties: { desired: { threshold: 2, mode: null } } });
      assert.equal(second.status, 200, second.body);
      const patched = await device.said(/^desired \{.*"\$version":3\}$/m);
      assert.deepEqual(JSON.parse(/^desired (\{.*"\$version":3\})$/m.exec(patched)![1]!), {
        threshold: 2,
        mode: null,
        $version: 3,
      });
      assert.deepEqual(twins()[id]?.desired, { threshold: 2, $version: 3 });
      await device.stop();
    });
  }

  test('a service-side twin update names what is wrong: no such device, not an object, bad properties', async () => {
    const absent = await patchDesired('nobody', { properties: { desired: { a: 1 } } });
    assert.equal(absent.status, 404);
    assert.match(absent.body, /no leaf device nobody/);
    const added = daemon.cli(['identity', 'add', 'twin-bad', '--json']);
    assert.equal(added.code, 0, added.stderr);
    for (const [body, message] of [
      [{ properties: { desired: [1] } }, /properties\.desired: expected a JSON object/],
      [{ properties: {} }, /properties\.desired: expected a JSON object/],
      [{ properties: { desired: { 'a.b': 1 } } }, /properties\.desired: .*a\.b/],
    ] as const) {
      const refused = await patchDesired('twin-bad', body);
      assert.equal(refused.status, 400, refused.body);
      assert.match(refused.body, message);
      assert.doesNotMatch(refused.body, /\n\s+at /, 'no stack trace');
    }
  });
});
