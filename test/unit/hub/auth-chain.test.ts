import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { parseAuthChain, scopeProblem, type ScopeDevices } from '../../../src/runtime/hub/auth-chain.js';
import { IdentityRegistry } from '../../../src/runtime/hub/identities.js';
import { parseNewLeafDevice, type LeafDevice } from '../../../src/runtime/hub/leaf-device-spec.js';
import { edgeHubModuleKey } from '../../../src/runtime/identity/module-keys.js';
import { buildSasToken } from '../../../src/runtime/identity/sas.js';

describe('auth-chain parsing', () => {
  test('target first, acting edge device last, the target being the client id', () => {
    const parsed = parseAuthChain('child-1/sensor;child-1', 'child-1/sensor');
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.claim, {
      targetId: 'child-1/sensor',
      targetDeviceId: 'child-1',
      actorDeviceId: 'child-1',
      chain: ['child-1/sensor', 'child-1'],
    });
    const deep = parseAuthChain('leaf1;edge2;edge1', 'leaf1');
    assert.ok(deep.ok);
    assert.equal(deep.claim.actorDeviceId, 'edge1');
    assert.equal(deep.claim.targetDeviceId, 'leaf1');
  });

  test('refused: a single id, a target that is not the client id, a module as actor, empty, too long', () => {
    const reasons = [
      parseAuthChain('child-1', 'child-1'),
      parseAuthChain(';', 'child-1'),
      parseAuthChain('leaf2;child-1', 'leaf1'),
      parseAuthChain('leaf1;child-1/$edgeHub', 'leaf1'),
      parseAuthChain(Array.from({ length: 9 }, (_, i) => `d${i}`).join(';'), 'd0'),
    ].map((parsed) => (parsed.ok ? 'accepted' : parsed.reason));
    assert.deepEqual(reasons, [
      'auth-chain must name a target and the acting edge device',
      'auth-chain must name a target and the acting edge device',
      'auth-chain starts with "leaf2", not the client id',
      'the last id of an auth-chain must be an edge device, not a module',
      'auth-chain names more than 8 identities',
    ]);
  });
});

describe('the scope of a child edge device', () => {
  // parent registry: child-1 and child-2 are edge devices; leaf-a below child-1; grand below
  // child-3 (an edge device below child-1); leaf-b is a leaf of the parent itself
  const devices: ScopeDevices = {
    parentOf: (id) => ({ 'leaf-a': 'child-1', 'child-3': 'child-1', grand: 'child-3' })[id],
    isEdge: (id) => ['child-1', 'child-2', 'child-3'].includes(id),
  };
  const decide = (chain: string, client: string) => {
    const parsed = parseAuthChain(chain, client);
    assert.ok(parsed.ok, chain);
    return scopeProblem(parsed.claim, devices) ?? 'in scope';
  };

  test('the child itself, its modules, devices below it (through other children too) are in scope', () => {
    assert.equal(decide('child-1;child-1', 'child-1'), 'in scope');
    assert.equal(decide('child-1/sensor;child-1', 'child-1/sensor'), 'in scope');
    assert.equal(decide('leaf-a;child-1', 'leaf-a'), 'in scope');
    assert.equal(decide('grand;child-3;child-1', 'grand'), 'in scope');
  });

  test("IoT Edge's chains, naming every edge device between the target and the actor, decide alike", () => {
    // IoT Edge's child sends the path of its own tree: target, the edge devices between, itself
    assert.equal(decide('grand/sensor;grand;child-3;child-1', 'grand/sensor'), 'in scope');
    assert.equal(decide('grand/sensor;child-1', 'grand/sensor'), 'in scope');
    // and for its own hub too
    assert.equal(decide('child-1/$edgeHub;child-1', 'child-1/$edgeHub'), 'in scope');
    // the ids between are not what decides: the actor's scope is
    assert.equal(decide('grand;child-1;child-2', 'grand'), 'grand is not in the scope of child-2');
  });

  test("another child's identities, the parent's own leaf devices and unknown actors are not", () => {
    assert.equal(decide('leaf-a;child-2', 'leaf-a'), 'leaf-a is not in the scope of child-2');
    assert.equal(decide('child-1/m;child-2', 'child-1/m'), 'child-1/m is not in the scope of child-2');
    assert.equal(decide('leaf-b;child-1', 'leaf-b'), 'leaf-b is not in the scope of child-1');
    assert.equal(decide('leaf-a;leaf-b', 'leaf-a'), 'leaf-b is not an edge device registered here');
  });
});

describe('a parent authenticates a connection on behalf of a child edge device', () => {
  const NOW = new Date('2024-06-01T12:00:00Z');
  const CHILD_KEY = Buffer.alloc(32, 7).toString('base64');
  const OTHER_KEY = Buffer.alloc(32, 9).toString('base64');
  const device = (body: Record<string, unknown>) => parseNewLeafDevice(body, 'parent-1', NOW);
  const registered = new Map<string, LeafDevice>(
    [
      device({ deviceId: 'child-1', edge: true, authentication: { type: 'sas', primaryKey: CHILD_KEY } }),
      device({ deviceId: 'child-2', edge: true, authentication: { type: 'sas', primaryKey: OTHER_KEY } }),
      device({ deviceId: 'leaf-a', parentId: 'child-1' }),
      device({ deviceId: 'plain', authentication: { type: 'sas', primaryKey: OTHER_KEY } }),
    ].map((d) => [d.deviceId, d]),
  );
  const identities = new IdentityRegistry({
    deviceId: 'parent-1',
    iothubHostname: 'hub.example.net',
    edgeHostname: 'parent-host',
    deviceKey: Buffer.alloc(32, 3).toString('base64'),
    generationId: async () => undefined,
    leafDevices: { get: (id) => registered.get(id) },
    now: () => NOW,
  });
  const edgeHubToken = (deviceId: string, key: string) =>
    buildSasToken({
      audience: `hub.example.net/devices/${deviceId}/modules/$edgeHub`,
      key: edgeHubModuleKey(key),
      expiry: NOW.getTime() / 1000 + 3600,
    });
  const token = edgeHubToken('child-1', CHILD_KEY);

  test("the child's $edgeHub token opens its own connection and connections as its scope", async () => {
    const own = await identities.authenticateSas('child-1', '$edgeHub', token);
    assert.ok(own.ok, own.ok ? '' : own.reason);
    assert.deepEqual(own.identity, { id: 'child-1/$edgeHub', deviceId: 'child-1', moduleId: '$edgeHub' });
    const module = await identities.onBehalfOf('child-1', 'sensor', 'child-1/sensor;child-1', token);
    assert.ok(module.ok, module.ok ? '' : module.reason);
    assert.deepEqual(module.identity, {
      id: 'child-1/sensor',
      deviceId: 'child-1',
      moduleId: 'sensor',
      authChain: ['child-1/sensor', 'child-1'],
    });
    assert.equal(module.expiresAt?.getTime(), NOW.getTime() + 3600_000);
    const leaf = await identities.onBehalfOf('leaf-a', undefined, 'leaf-a;child-1', token);
    assert.ok(leaf.ok, leaf.ok ? '' : leaf.reason);
    assert.deepEqual(leaf.identity, { id: 'leaf-a', deviceId: 'leaf-a', authChain: ['leaf-a', 'child-1'] });
  });

  test('refused: out of scope, a bad token, a plain device acting, the parent itself, modules directly', async () => {
    const refusals = [
      await identities.onBehalfOf('child-2', 'm', 'child-2/m;child-1', token),
      await identities.onBehalfOf('child-1', 'm', 'child-1/m;child-1', edgeHubToken('child-1', OTHER_KEY)),
      await identities.onBehalfOf('leaf-a', undefined, 'leaf-a;plain', edgeHubToken('plain', OTHER_KEY)),
      await identities.onBehalfOf('parent-1', 'm', 'parent-1/m;child-1', token),
      await identities.authenticateSas('child-1', 'sensor', token),
      await identities.authenticateSas('plain', '$edgeHub', edgeHubToken('plain', OTHER_KEY)),
    ].map((result) => (result.ok ? 'accepted' : result.reason));
    assert.deepEqual(refusals, [
      'child-2/m: child-2/m is not in the scope of child-1',
      'child-1/$edgeHub: SAS token signature does not match any key of the identity',
      'plain/$edgeHub: leaf device plain has no modules',
      "parent-1/m: this device's own identities cannot be acted for",
      'child-1/sensor: modules of edge device child-1 connect through its own hub (auth-chain)',
      'plain/$edgeHub: leaf device plain has no modules',
    ]);
    for (const reason of refusals) assert.doesNotMatch(reason, /sig=|SharedAccessSignature/);
  });
});
