import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { IdentityRegistry } from '../../../src/runtime/hub/identities.js';
import {
  LeafDeviceInputError,
  deviceIdProblem,
  parseNewLeafDevice,
} from '../../../src/runtime/hub/leaf-device-spec.js';
import { LeafDeviceExistsError, LeafDeviceRegistry } from '../../../src/runtime/hub/leaf-devices.js';
import { buildSasToken } from '../../../src/runtime/identity/sas.js';
import { createCertificate } from '../../helpers/cert-factory.js';
import { SmallTmpfs } from '../../helpers/small-tmpfs.js';

const EDGE = 'edge-1';
const NOW = new Date('2024-06-01T12:00:00Z');
const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const SHA1 = 'ab'.repeat(20);
const SHA256 = 'Cd'.repeat(32);

const parse = (body: unknown) => parseNewLeafDevice(body, EDGE, NOW);
const fieldOf = (body: unknown): string | undefined => {
  try {
    parse(body);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof LeafDeviceInputError, String(error));
    assert.ok(error.message.startsWith(`${error.field}: `));
    return error.field;
  }
};

describe('a new leaf device', () => {
  test('without authentication: SAS with two generated 32-byte keys', () => {
    const device = parse({ deviceId: 'leaf1' });
    assert.equal(device.deviceId, 'leaf1');
    assert.equal(device.createdTime, NOW.toISOString());
    assert.equal(device.authentication.type, 'sas');
    if (device.authentication.type !== 'sas') return;
    const { primaryKey, secondaryKey } = device.authentication;
    assert.equal(Buffer.from(primaryKey, 'base64').length, 32);
    assert.equal(Buffer.from(secondaryKey, 'base64').length, 32);
    assert.notEqual(primaryKey, secondaryKey);
    const other = parse({ deviceId: 'leaf1' }).authentication;
    assert.ok(other.type === 'sas' && other.primaryKey !== primaryKey, 'keys differ from device to device');
  });

  test('given keys are kept; a missing one is generated', () => {
    const device = parse({ deviceId: 'leaf1', authentication: { type: 'sas', primaryKey: KEY_A } });
    assert.equal(device.authentication.type, 'sas');
    if (device.authentication.type !== 'sas') return;
    assert.equal(device.authentication.primaryKey, KEY_A);
    assert.notEqual(device.authentication.secondaryKey, KEY_A);
  });

  test('a key must be base64 of 16 to 64 bytes; the error names the field, never the value', () => {
    const sas = (primaryKey: unknown, secondaryKey?: unknown) => ({
      deviceId: 'leaf1',
      authentication: { type: 'sas', primaryKey, secondaryKey },
    });
    assert.equal(fieldOf(sas('not base64!')), 'authentication.primaryKey');
    assert.equal(fieldOf(sas(Buffer.alloc(15).toString('base64'))), 'authentication.primaryKey');
    assert.equal(fieldOf(sas(Buffer.alloc(65).toString('base64'))), 'authentication.primaryKey');
    assert.equal(fieldOf(sas(42)), 'authentication.primaryKey');
    assert.equal(fieldOf(sas(KEY_A, 'AAAA')), 'authentication.secondaryKey');
    assert.equal(
      fieldOf(sas(Buffer.alloc(16).toString('base64'), Buffer.alloc(64).toString('base64'))),
      undefined,
    );
    assert.throws(
      () => parse(sas('c2VjcmV0')),
      (error: Error) => !error.message.includes('c2VjcmV0'),
    );
  });

  test('edge devices take SAS keys only; edge is a boolean; a parent is a device id other than its own', () => {
    assert.equal(
      fieldOf({ deviceId: 'c', edge: true, authentication: { type: 'x509', primaryThumbprint: SHA1 } }),
      'authentication.type',
    );
    assert.equal(fieldOf({ deviceId: 'c', edge: 'yes' }), 'edge');
    assert.equal(fieldOf({ deviceId: 'c', parentId: 'c' }), 'parentId');
    assert.equal(fieldOf({ deviceId: 'c', parentId: 'a b' }), 'parentId');
    assert.equal(
      parse({ deviceId: 'c', parentId: EDGE }).parentId,
      undefined,
      'this gateway is no parent to name',
    );
    assert.equal(parse({ deviceId: 'c', edge: false }).edge, undefined);
  });

  test("device ids follow IoT Hub's rules, and the edge device's own id is refused", () => {
    assert.equal(deviceIdProblem("a-b.c:d%e_f*h?i!j(k)l,m=n@o$q'r", EDGE), undefined);
    assert.equal(deviceIdProblem('x'.repeat(128), EDGE), undefined);
    assert.match(deviceIdProblem('x'.repeat(129), EDGE)!, /at most 128/);
    for (const bad of ['', 'a b', 'a/b', 'é', 'a"b'])
      assert.match(
        deviceIdProblem(bad, EDGE) ?? '',
        /expected a device id|may only hold/,
        JSON.stringify(bad),
      );
    // IoT Hub takes these, but MQTT topics and connection strings cannot carry them
    for (const bad of ['a+b', 'a#b']) assert.match(deviceIdProblem(bad, EDGE)!, /MQTT forbids \+ and #/);
    assert.match(deviceIdProblem('a;b', EDGE)!, /connection string cannot carry ;/);
    assert.match(deviceIdProblem(EDGE, EDGE)!, /own id/);
    assert.equal(fieldOf({ deviceId: 'a/b' }), 'deviceId');
    assert.equal(fieldOf({}), 'deviceId');
    assert.equal(fieldOf([]), 'body');
    assert.equal(fieldOf('leaf1'), 'body');
  });

  test('X.509 thumbprints: SHA-1 or SHA-256 hex, any case, colons allowed, stored uppercase', () => {
    const colons = SHA1.match(/../g)!.join(':');
    const device = parse({
      deviceId: 'cam',
      authentication: { type: 'X509', primaryThumbprint: SHA256, secondaryThumbprint: colons },
    });
    assert.deepEqual(device.authentication, {
      type: 'x509',
      primaryThumbprint: SHA256.toUpperCase(),
      secondaryThumbprint: SHA1.toUpperCase(),
    });
    const x509 = (primaryThumbprint: unknown, secondaryThumbprint?: unknown) => ({
      deviceId: 'cam',
      authentication: { type: 'x509', primaryThumbprint, secondaryThumbprint },
    });
    assert.deepEqual(parse(x509(SHA1)).authentication, {
      type: 'x509',
      primaryThumbprint: SHA1.toUpperCase(),
    });
    assert.equal(fieldOf(x509(undefined)), 'authentication.primaryThumbprint');
    assert.equal(fieldOf(x509(SHA1.slice(1))), 'authentication.primaryThumbprint');
    assert.equal(fieldOf(x509('zz'.repeat(20))), 'authentication.primaryThumbprint');
    assert.equal(fieldOf(x509(SHA1, 'nope')), 'authentication.secondaryThumbprint');
    assert.equal(fieldOf({ deviceId: 'cam', authentication: { type: 'token' } }), 'authentication.type');
    assert.equal(fieldOf({ deviceId: 'cam', authentication: 'sas' }), 'authentication');
  });
});

describe('the leaf device registry', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'leaf-devices-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const fresh = async (name: string) => {
    file = path.join(dir, name, 'devices.json');
    const registry = new LeafDeviceRegistry(file, EDGE, () => NOW);
    assert.deepEqual(await registry.reload(), []);
    return registry;
  };

  test('add writes the file (0600) before it resolves; another registry reads it back', async () => {
    const registry = await fresh('a');
    const added = await registry.add({
      deviceId: 'leaf1',
      authentication: { type: 'sas', primaryKey: KEY_A },
    });
    await registry.add({ deviceId: 'cam', authentication: { type: 'x509', primaryThumbprint: SHA1 } });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const again = new LeafDeviceRegistry(file, EDGE);
    await again.reload();
    assert.deepEqual(again.get('leaf1'), added);
    assert.deepEqual(
      again.list().map((device) => device.deviceId),
      ['cam', 'leaf1'],
    );
    assert.equal(again.get('nobody'), undefined);
  });

  test('an edge device (a child) and a device below it: kept in the file; the parent must be an edge device', async () => {
    const registry = await fresh('edge');
    const child = await registry.add({ deviceId: 'child-1', edge: true });
    assert.equal(child.edge, true);
    const below = await registry.add({ deviceId: 'sensor', parentId: 'child-1' });
    assert.equal(below.parentId, 'child-1');
    await registry.add({ deviceId: 'plain' });
    await assert.rejects(
      registry.add({ deviceId: 'x', parentId: 'plain' }),
      (error: Error) =>
        error instanceof LeafDeviceInputError &&
        error.message === 'parentId: plain is not an edge device registered here',
    );
    await assert.rejects(registry.add({ deviceId: 'y', parentId: 'nobody' }), LeafDeviceInputError);
    const again = new LeafDeviceRegistry(file, EDGE);
    await again.reload();
    assert.deepEqual(again.get('child-1'), child);
    assert.deepEqual(again.get('sensor'), below);
    assert.equal(registry.get('x'), undefined);
  });

  test('an id taken is a conflict; bad input is refused; neither changes anything', async () => {
    const registry = await fresh('b');
    await registry.add({ deviceId: 'leaf1' });
    const before = await readFile(file, 'utf8');
    await assert.rejects(registry.add({ deviceId: 'leaf1' }), LeafDeviceExistsError);
    await assert.rejects(registry.add({ deviceId: EDGE }), LeafDeviceInputError);
    assert.equal(await readFile(file, 'utf8'), before);
    assert.equal(registry.list().length, 1);
  });

  test('remove resolves to the device, then to undefined', async () => {
    const registry = await fresh('c');
    await registry.add({ deviceId: 'leaf1' });
    assert.equal((await registry.remove('leaf1'))?.deviceId, 'leaf1');
    assert.equal(await registry.remove('leaf1'), undefined);
    assert.equal(registry.get('leaf1'), undefined);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { devices: [] });
  });

  test('concurrent adds are written one after the other, none lost', async () => {
    const registry = await fresh('d');
    await Promise.all(Array.from({ length: 10 }, (_, n) => registry.add({ deviceId: `leaf${n}` })));
    const again = new LeafDeviceRegistry(file, EDGE);
    await again.reload();
    assert.equal(again.list().length, 10);
  });

  test('reload names the devices removed or given other credentials', async () => {
    const registry = await fresh('e');
    await registry.add({ deviceId: 'keep' });
    await registry.add({ deviceId: 'gone' });
    await registry.add({ deviceId: 'rekeyed' });
    const saved = JSON.parse(await readFile(file, 'utf8')) as { devices: Record<string, unknown>[] };
    const devices = saved.devices
      .filter((device) => device.deviceId !== 'gone')
      .map((device) =>
        device.deviceId === 'rekeyed'
          ? { ...device, authentication: { type: 'sas', primaryKey: KEY_A, secondaryKey: KEY_B } }
          : device,
      );
    await writeFile(file, JSON.stringify({ devices }));
    assert.deepEqual((await registry.reload()).sort(), ['gone', 'rekeyed']);
    assert.equal(registry.get('gone'), undefined);
  });

  test('a broken file is refused with its name and the entry, and the registry stays as it was', async () => {
    const registry = await fresh('f');
    await registry.add({ deviceId: 'leaf1' });
    await writeFile(file, JSON.stringify({ devices: [{ deviceId: 'x y', createdTime: NOW.toISOString() }] }));
    await assert.rejects(registry.reload(), {
      message: `${file}: devices[0].authentication: expected an object`,
    });
    const entry = {
      deviceId: 'a',
      createdTime: NOW.toISOString(),
      authentication: { type: 'sas', primaryKey: KEY_A },
    };
    await writeFile(file, JSON.stringify({ devices: [entry] }));
    await assert.rejects(registry.reload(), {
      message: `${file}: devices[0].authentication.secondaryKey: missing`,
    });
    const full = { ...entry, authentication: { ...entry.authentication, secondaryKey: KEY_B } };
    await writeFile(file, JSON.stringify({ devices: [full, full] }));
    await assert.rejects(registry.reload(), /devices\[1\]: device a is listed twice/);
    await writeFile(file, '{"devices": {}}');
    await assert.rejects(registry.reload(), /expected \{"devices": \[\.\.\.\]\}/);
    await writeFile(file, '{nope');
    await assert.rejects(registry.reload(), new RegExp(file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    assert.ok(registry.get('leaf1'));
  });

  test('a write that fails leaves the registry unchanged', { skip: process.getuid?.() === 0 }, async () => {
    const registry = await fresh('g');
    await registry.add({ deviceId: 'leaf1' });
    await chmod(path.dirname(file), 0o500);
    try {
      await assert.rejects(registry.add({ deviceId: 'leaf2' }));
      await assert.rejects(registry.remove('leaf1'));
    } finally {
      await chmod(path.dirname(file), 0o700);
    }
    assert.equal(registry.get('leaf2'), undefined);
    assert.ok(registry.get('leaf1'));
  });

  test('a write that fails leaves the registry unchanged (the file is a directory)', async () => {
    const registry = await fresh('h');
    await registry.add({ deviceId: 'leaf1' });
    await rm(file);
    await mkdir(file);
    await assert.rejects(registry.add({ deviceId: 'leaf2' }));
    assert.equal(registry.get('leaf2'), undefined);
    assert.ok(registry.get('leaf1'));
  });
});

describe('leaf devices authenticate with their own credentials', () => {
  let registry: LeafDeviceRegistry;
  let identities: IdentityRegistry;
  let dir: string;
  const cert = createCertificate({
    commonName: 'cam',
    notBefore: new Date(NOW.getTime() - 86_400_000),
    notAfter: new Date(NOW.getTime() + 86_400_000),
    isCa: false,
  });
  const der = new X509Certificate(cert.certPem).raw;
  const parsed = new X509Certificate(der);
  const token = (deviceId: string, key: string, moduleId?: string, host = 'hub.example.net') =>
    buildSasToken({
      audience: `${host}/devices/${deviceId}${moduleId ? `/modules/${moduleId}` : ''}`,
      key,
      expiry: NOW.getTime() / 1000 + 3600,
    });

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'leaf-auth-'));
    registry = new LeafDeviceRegistry(path.join(dir, 'devices.json'), EDGE, () => NOW);
    await registry.add({
      deviceId: 'leaf1',
      authentication: { type: 'sas', primaryKey: KEY_A, secondaryKey: KEY_B },
    });
    await registry.add({
      deviceId: 'cam',
      authentication: { type: 'x509', primaryThumbprint: SHA1, secondaryThumbprint: parsed.fingerprint256 },
    });
    await registry.add({
      deviceId: 'cam1',
      authentication: { type: 'x509', primaryThumbprint: parsed.fingerprint.replace(/:/g, '').toLowerCase() },
    });
    identities = new IdentityRegistry({
      deviceId: EDGE,
      iothubHostname: 'hub.example.net',
      edgeHostname: 'gateway.local',
      deviceKey: Buffer.alloc(32, 9).toString('base64'),
      generationId: async () => undefined,
      leafDevices: registry,
      now: () => NOW,
    });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a SAS token signed with the primary or secondary key, for the hub or the gateway host', async () => {
    for (const [key, host] of [
      [KEY_A, 'hub.example.net'],
      [KEY_B, 'gateway.local'],
    ] as const) {
      assert.deepEqual(
        await identities.authenticateSas('leaf1', undefined, token('leaf1', key, undefined, host)),
        {
          ok: true,
          identity: { id: 'leaf1', deviceId: 'leaf1' },
          // the connection it opens ends when the token expires
          expiresAt: new Date(NOW.getTime() + 3600_000),
        },
      );
    }
  });

  test('refused: another key, a module of a leaf device, an X.509 device, an unknown one, after removal', async () => {
    const edgeKey = Buffer.alloc(32, 9).toString('base64');
    const refused = async (deviceId: string, moduleId: string | undefined, text: string, reason: RegExp) => {
      const result = await identities.authenticateSas(deviceId, moduleId, text);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reason, reason);
    };
    await refused('leaf1', undefined, token('leaf1', edgeKey), /signature does not match/);
    await refused('leaf1', 'm', token('leaf1', KEY_A, 'm'), /has no modules/);
    await refused('cam', undefined, token('cam', KEY_A), /authenticates with X\.509/);
    await refused('other', undefined, token('other', KEY_A), /unknown identity other/);
    await refused('leaf1', undefined, token('other', KEY_A), /not 'leaf1'/);
    const kept = token('leaf1', KEY_A);
    await registry.add({ deviceId: 'temp', authentication: { type: 'sas', primaryKey: KEY_A } });
    assert.equal((await identities.authenticateSas('temp', undefined, token('temp', KEY_A))).ok, true);
    await registry.remove('temp');
    await refused('temp', undefined, token('temp', KEY_A), /unknown identity temp/);
    assert.equal((await identities.authenticateSas('leaf1', undefined, kept)).ok, true);
  });

  test('the edge device and its modules still authenticate as before', async () => {
    const edgeKey = Buffer.alloc(32, 9).toString('base64');
    assert.equal((await identities.authenticateSas(EDGE, undefined, token(EDGE, edgeKey))).ok, true);
  });

  test('a client certificate whose SHA-256 or SHA-1 thumbprint is registered (any case)', async () => {
    for (const deviceId of ['cam', 'cam1']) {
      assert.deepEqual(await identities.authenticateCertificate(deviceId, undefined, der), {
        ok: true,
        identity: { id: deviceId, deviceId },
      });
    }
  });

  test('certificates refused: another one, an expired one, a SAS device, a module, unknown, garbage', async () => {
    const refused = async (deviceId: string, moduleId: string | undefined, bytes: Buffer, reason: RegExp) => {
      const result = await identities.authenticateCertificate(deviceId, moduleId, bytes);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reason, reason);
    };
    const other = createCertificate({ commonName: 'cam', notBefore: NOW, notAfter: NOW, isCa: false });
    await refused('cam', undefined, new X509Certificate(other.certPem).raw, /thumbprint is not the device's/);
    const expired = createCertificate({
      commonName: 'cam',
      notBefore: new Date(NOW.getTime() - 2 * 86_400_000),
      notAfter: new Date(NOW.getTime() - 86_400_000),
      isCa: false,
    });
    const expiredDer = new X509Certificate(expired.certPem).raw;
    await registry.add({
      deviceId: 'old',
      authentication: { type: 'x509', primaryThumbprint: new X509Certificate(expiredDer).fingerprint256 },
    });
    await refused('old', undefined, expiredDer, /not valid at/);
    await refused('leaf1', undefined, der, /authenticates with SAS/);
    await refused('cam', 'm', der, /has no modules/);
    await refused('nobody', undefined, der, /no X\.509 identity nobody/);
    await refused(EDGE, undefined, der, /no X\.509 identity/);
    await refused('cam', undefined, Buffer.from('not a certificate'), /cannot be read/);
  });
});

test('a full disk fails the registration, which then does not exist; the file stays as it was', async (t) => {
  const mounted = SmallTmpfs.mount(256);
  if ('skip' in mounted) return t.skip(mounted.skip);
  try {
    const file = path.join(mounted.dir, 'devices.json');
    const registry = new LeafDeviceRegistry(file, EDGE, () => NOW);
    await registry.add({ deviceId: 'kept' });
    const before = await readFile(file, 'utf8');
    mounted.fill();
    await assert.rejects(registry.add({ deviceId: 'lost' }), /could not save .*devices\.json: ENOSPC/);
    assert.equal(registry.get('lost'), undefined);
    assert.equal(await readFile(file, 'utf8'), before);
    mounted.free();
    await registry.add({ deviceId: 'later' });
    assert.deepEqual(
      registry.list().map((device) => device.deviceId),
      ['kept', 'later'],
    );
  } finally {
    mounted.unmount();
  }
});
