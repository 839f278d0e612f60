import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { admissionLost, type ScopeDevices } from '../../../src/runtime/hub/auth-chain.js';
import { EdgeHub } from '../../../src/runtime/hub/hub.js';
import { IdentityRegistry } from '../../../src/runtime/hub/identities.js';
import { parseNewLeafDevice, type LeafDevice } from '../../../src/runtime/hub/leaf-device-spec.js';
import type { ClientProxy, CloseReason } from '../../../src/runtime/hub/session/client-proxy.js';
import { edgeHubModuleKey } from '../../../src/runtime/identity/module-keys.js';
import { buildSasToken } from '../../../src/runtime/identity/sas.js';

/*
 * Removing an identity ends what it could do at once: every connection its registration admitted,
 * those a child edge device keeps on its behalf and, for an edge device, those it keeps for its
 * modules and for every device below it.
 */

describe('whether a connection admitted earlier would still be admitted', () => {
  // parent-1's registry: child-1 and child-3 (below child-1) are edge devices; leaf-a is below
  // child-1, grand below child-3; plain is a leaf device of the parent itself
  const parents = new Map<string, string>([
    ['leaf-a', 'child-1'],
    ['child-3', 'child-1'],
    ['grand', 'child-3'],
  ]);
  const edges = new Set(['child-1', 'child-3']);
  const registered = () => new Set([...parents.keys(), ...edges, 'plain']);
  const devices = (removed: string[] = []): ScopeDevices & { isRegistered(id: string): boolean } => {
    const gone = new Set(removed);
    return {
      parentOf: (id) => (gone.has(id) ? undefined : parents.get(id)),
      isEdge: (id) => !gone.has(id) && edges.has(id),
      isRegistered: (id) => !gone.has(id) && registered().has(id),
    };
  };
  const lost = (id: string, chain: string | undefined, removed: string[]) =>
    admissionLost(
      { id, deviceId: id.split('/')[0]!, ...(chain ? { authChain: chain.split(';') } : {}) },
      'parent-1',
      devices(removed),
    ) ?? 'kept';

  test('nothing removed: every connection is kept, the own modules always', () => {
    assert.equal(lost('leaf-a', 'leaf-a;child-1', []), 'kept');
    assert.equal(lost('grand', 'grand;child-3;child-1', []), 'kept');
    assert.equal(lost('child-1/$edgeHub', undefined, []), 'kept');
    assert.equal(lost('plain', undefined, []), 'kept');
    assert.equal(lost('parent-1/sensor', undefined, ['plain']), 'kept');
  });

  test('a removed leaf device: its direct connection and those kept on its behalf end', () => {
    assert.equal(lost('plain', undefined, ['plain']), 'plain is no longer registered here');
    assert.equal(lost('leaf-a', 'leaf-a;child-1', ['leaf-a']), 'leaf-a is not in the scope of child-1');
    assert.equal(lost('grand', 'grand;child-3;child-1', ['leaf-a']), 'kept');
  });

  test('a removed edge device: its own, its modules, the devices below it (through other edge devices too)', () => {
    const removed = ['child-1'];
    assert.equal(lost('child-1/$edgeHub', undefined, removed), 'child-1 is no longer registered here');
    assert.equal(
      lost('child-1/sensor', 'child-1/sensor;child-1', removed),
      'child-1 is not an edge device registered here',
    );
    assert.equal(lost('leaf-a', 'leaf-a;child-1', removed), 'child-1 is not an edge device registered here');
    assert.equal(
      lost('grand', 'grand;child-3;child-1', removed),
      'child-1 is not an edge device registered here',
    );
    assert.equal(lost('plain', undefined, removed), 'kept');
  });

  test('a removed edge device in the middle of a chain takes what lies below it', () => {
    assert.equal(lost('grand', 'grand;child-3;child-1', ['child-3']), 'grand is not in the scope of child-1');
    assert.equal(lost('leaf-a', 'leaf-a;child-1', ['child-3']), 'kept');
  });
});

describe('the hub forgets a removed device', () => {
  const NOW = new Date('2024-06-01T12:00:00Z');
  const CHILD_KEY = Buffer.alloc(32, 7).toString('base64');
  const PLAIN_KEY = Buffer.alloc(32, 9).toString('base64');
  const device = (body: Record<string, unknown>) => parseNewLeafDevice(body, 'parent-1', NOW);

  class Proxy implements ClientProxy {
    readonly closed: CloseReason[] = [];
    deliverInput = () => Promise.resolve();
    deliverC2D = () => Promise.resolve();
    sendDesiredPatch = () => undefined;
    sendMethodRequest = () => undefined;
    close(reason: CloseReason): void {
      this.closed.push(reason);
    }
  }

  function parentHub() {
    const registered = new Map<string, LeafDevice>(
      [
        device({ deviceId: 'child-1', edge: true, authentication: { type: 'sas', primaryKey: CHILD_KEY } }),
        device({ deviceId: 'child-3', edge: true, parentId: 'child-1' }),
        device({ deviceId: 'leaf-a', parentId: 'child-1' }),
        device({ deviceId: 'grand', parentId: 'child-3' }),
        device({ deviceId: 'plain', authentication: { type: 'sas', primaryKey: PLAIN_KEY } }),
      ].map((d) => [d.deviceId, d]),
    );
    const identities = new IdentityRegistry({
      deviceId: 'parent-1',
      iothubHostname: 'hub.example.net',
      edgeHostname: 'parent-host',
      generationId: async () => undefined,
      leafDevices: { get: (id) => registered.get(id) },
      now: () => NOW,
    });
    const lines: string[] = [];
    const hub = new EdgeHub({ identities, log: (line) => lines.push(line), now: () => NOW });
    return { hub, registered, lines };
  }

  const token = (audience: string, key: string) =>
    buildSasToken({
      audience: `hub.example.net/devices/${audience}`,
      key,
      expiry: NOW.getTime() / 1000 + 600,
    });
  const childToken = token('child-1/modules/$edgeHub', edgeHubModuleKey(CHILD_KEY));

  /** Connects as a head would: on behalf of `id` by child-1 (with `chain`), or directly. */
  async function connect(hub: EdgeHub, id: string, chain?: string): Promise<Proxy> {
    const [deviceId, moduleId] = id.split('/') as [string, string | undefined];
    const credentials = { sas: id === 'plain' ? token('plain', PLAIN_KEY) : childToken };
    const auth = await hub.authenticate(deviceId, moduleId, credentials, chain);
    assert.ok(auth.ok, auth.ok ? '' : auth.reason);
    const proxy = new Proxy();
    hub.openSession(auth.identity, { sessionId: id, clean: true }).attach(proxy);
    return proxy;
  }

  async function connectAll(hub: EdgeHub) {
    return {
      edgeHub: await connect(hub, 'child-1/$edgeHub'),
      sensor: await connect(hub, 'child-1/sensor', 'child-1/sensor;child-1'),
      leafA: await connect(hub, 'leaf-a', 'leaf-a;child-1'),
      grand: await connect(hub, 'grand', 'grand;child-3;child-1'),
      plain: await connect(hub, 'plain'),
    };
  }

  test('a leaf device below a child: the connection the child keeps for it ends, its twin goes, it is refused after', async () => {
    const { hub, registered, lines } = parentHub();
    const proxies = await connectAll(hub);
    await hub.patchDeviceDesired('leaf-a', { colour: 'red' });
    registered.delete('leaf-a');
    assert.deepEqual(hub.forgetDevices(['leaf-a']), ['leaf-a']);
    assert.deepEqual(proxies.leafA.closed, ['removed']);
    for (const other of [proxies.edgeHub, proxies.sensor, proxies.grand, proxies.plain])
      assert.deepEqual(other.closed, [], 'the others stay');
    assert.deepEqual(
      hub.getTwin({ id: 'leaf-a', deviceId: 'leaf-a' }).desired,
      { $version: 1 },
      'a fresh twin: the old desired properties are gone',
    );
    assert.match(lines.join('\n'), /hub: leaf-a: its connection ends: leaf-a is not in the scope of child-1/);
    const again = await hub.authenticate('leaf-a', undefined, { sas: childToken }, 'leaf-a;child-1');
    assert.deepEqual(again, { ok: false, reason: 'leaf-a: leaf-a is not in the scope of child-1' });
  });

  test('a child edge device: its own connection, its modules and every device below it end; a leaf of the parent stays', async () => {
    const { hub, registered } = parentHub();
    const proxies = await connectAll(hub);
    await hub.deployToDevice('child-1', { $edgeAgent: { a: 1 }, sensor: { b: 2 } });
    registered.delete('child-1');
    assert.deepEqual(hub.forgetDevices(['child-1']).sort(), [
      'child-1/$edgeHub',
      'child-1/sensor',
      'grand',
      'leaf-a',
    ]);
    for (const gone of [proxies.edgeHub, proxies.sensor, proxies.leafA, proxies.grand])
      assert.deepEqual(gone.closed, ['removed']);
    assert.deepEqual(proxies.plain.closed, []);
    assert.deepEqual(hub.getTwin({ id: 'child-1/sensor', deviceId: 'child-1', moduleId: 'sensor' }).desired, {
      $version: 1,
    });
  });
});
