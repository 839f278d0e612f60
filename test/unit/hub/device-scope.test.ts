import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { inScopeOf } from '../../../src/runtime/hub/auth-chain.js';
import { parseScopeRequest, scopePage, ScopeRequestError } from '../../../src/runtime/hub/device-scope.js';
import { parseScopeResult, ScopeResultError } from '../../../src/runtime/hub/device-scope-wire.js';
import { IdentityRegistry } from '../../../src/runtime/hub/identities.js';
import { parseNewLeafDevice, type LeafDevice } from '../../../src/runtime/hub/leaf-device-spec.js';
import { scopeDevices } from '../../../src/runtime/hub/leaf-devices.js';
import { RefreshThrottle } from '../../../src/runtime/hub/refresh-throttle.js';
import { ScopeIdentities } from '../../../src/runtime/hub/scope-identities.js';
import { edgeHubModuleKey } from '../../../src/runtime/identity/module-keys.js';
import { buildSasToken } from '../../../src/runtime/identity/sas.js';

const PARENT = 'parent';
const NOW = new Date('2024-06-01T12:00:00Z');
const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');

/** The devices registered on the parent: child-1 (edge) with leaf-7 and grandchild (edge, with leaf-9) below it; child-2 with leaf-8. */
function parentRegistry(): LeafDevice[] {
  const add = (body: Record<string, unknown>) => parseNewLeafDevice(body, PARENT, NOW);
  return [
    add({
      deviceId: 'child-1',
      edge: true,
      authentication: { type: 'sas', primaryKey: key(1), secondaryKey: key(2) },
    }),
    add({
      deviceId: 'child-2',
      edge: true,
      authentication: { type: 'sas', primaryKey: key(3), secondaryKey: key(4) },
    }),
    add({
      deviceId: 'leaf-7',
      parentId: 'child-1',
      authentication: { type: 'sas', primaryKey: key(5), secondaryKey: key(6) },
    }),
    add({
      deviceId: 'leaf-8',
      parentId: 'child-2',
      authentication: { type: 'sas', primaryKey: key(7), secondaryKey: key(8) },
    }),
    add({
      deviceId: 'grandchild',
      edge: true,
      parentId: 'child-1',
      authentication: { type: 'sas', primaryKey: key(9), secondaryKey: key(10) },
    }),
    add({
      deviceId: 'leaf-9',
      parentId: 'grandchild',
      authentication: { type: 'x509', primaryThumbprint: 'AB'.repeat(32) },
    }),
    add({ deviceId: 'alone', authentication: { type: 'sas', primaryKey: key(11), secondaryKey: key(12) } }),
  ];
}

const lookupOf = (devices: LeafDevice[]) =>
  scopeDevices({ get: (id) => devices.find((device) => device.deviceId === id) });

describe('the device-scope request', () => {
  test('the target is the first id of the auth chain; page size 100 unless given', () => {
    assert.deepEqual(parseScopeRequest({ authChain: 'child-1' }), {
      targetDeviceId: 'child-1',
      pageSize: 100,
    });
    assert.deepEqual(
      parseScopeRequest({ authChain: 'grandchild;child-1', pageSize: 2, continuationLink: 'b' }),
      {
        targetDeviceId: 'grandchild',
        pageSize: 2,
        continuationLink: 'b',
      },
    );
  });

  test('bad bodies are refused naming the field', () => {
    const problem = (body: unknown) => {
      try {
        parseScopeRequest(body);
        return 'accepted';
      } catch (error) {
        assert.ok(error instanceof ScopeRequestError);
        return error.message;
      }
    };
    assert.match(problem([]), /expected a JSON object/);
    assert.match(problem({}), /^authChain: /);
    assert.match(problem({ authChain: ';child-1' }), /^authChain: /);
    assert.match(problem({ authChain: 'c', pageSize: 1001 }), /^pageSize: /);
    assert.match(problem({ authChain: 'c', pageSize: 'ten' }), /^pageSize: /);
    assert.match(problem({ authChain: 'c', continuationLink: 5 }), /^continuationLink: /);
  });
});

describe('the scope of an edge device', () => {
  const devices = parentRegistry();
  const lookup = lookupOf(devices);

  test('holds the device itself and everything registered below it, through other edge devices', () => {
    assert.equal(inScopeOf('child-1', 'leaf-9', lookup), true);
    assert.equal(inScopeOf('child-1', 'child-1', lookup), true);
    assert.equal(inScopeOf('child-1', 'leaf-8', lookup), false);
    assert.equal(inScopeOf('child-1', 'alone', lookup), false);
    const page = scopePage({ targetDeviceId: 'child-1', pageSize: 100 }, PARENT, devices, lookup);
    assert.deepEqual(
      page.devices.map((device) => device.deviceId),
      ['child-1', 'grandchild', 'leaf-7', 'leaf-9'],
    );
    assert.equal(page.continuationLink, undefined);
    const leaf = page.devices.find((device) => device.deviceId === 'leaf-7')!;
    assert.deepEqual(leaf.authentication.symmetricKey, { primaryKey: key(5), secondaryKey: key(6) });
    assert.equal(leaf.authentication.type, 'sas');
    assert.equal(leaf.capabilities.iotEdge, false);
    const child = page.devices.find((device) => device.deviceId === 'child-1')!;
    assert.deepEqual(leaf.parentScopes, [child.deviceScope]);
    assert.match(child.deviceScope, /^ms-azure-iot-edge:\/\/child-1-\d+$/);
  });

  test('pages by id: each continuation link gives the next page, the last has none', () => {
    const ids: string[] = [];
    let link: string | undefined;
    let pages = 0;
    do {
      const page = scopePage(
        { targetDeviceId: 'child-1', pageSize: 3, ...(link ? { continuationLink: link } : {}) },
        PARENT,
        devices,
        lookup,
      );
      ids.push(...page.devices.map((device) => device.deviceId));
      link = page.continuationLink;
      pages += 1;
    } while (link !== undefined);
    assert.equal(pages, 2);
    assert.deepEqual(ids, ['child-1', 'grandchild', 'leaf-7', 'leaf-9']);
  });

  test('the child reads the answer back as its own registrations: parents below it kept, itself left out', () => {
    const page = scopePage({ targetDeviceId: 'child-1', pageSize: 100 }, PARENT, devices, lookup);
    const parsed = parseScopeResult(JSON.parse(JSON.stringify(page)), 'child-1', NOW);
    assert.deepEqual(parsed.skipped, []);
    const byId = new Map(parsed.devices.map((device) => [device.deviceId, device]));
    assert.deepEqual([...byId.keys()].sort(), ['grandchild', 'leaf-7', 'leaf-9']);
    assert.deepEqual(byId.get('leaf-7')!.authentication, {
      type: 'sas',
      primaryKey: key(5),
      secondaryKey: key(6),
    });
    assert.equal(byId.get('leaf-7')!.parentId, undefined, 'directly below the child');
    assert.equal(byId.get('grandchild')!.edge, true);
    assert.equal(byId.get('leaf-9')!.parentId, 'grandchild');
    assert.deepEqual(byId.get('leaf-9')!.authentication, {
      type: 'x509',
      primaryThumbprint: 'AB'.repeat(32),
    });
  });

  test('a child answers its own child from what its parent told it (three layers)', () => {
    const page = scopePage({ targetDeviceId: 'child-1', pageSize: 100 }, PARENT, devices, lookup);
    const learnt = parseScopeResult(JSON.parse(JSON.stringify(page)), 'child-1', NOW).devices;
    const again = scopePage(
      { targetDeviceId: 'grandchild', pageSize: 100 },
      'child-1',
      learnt,
      lookupOf(learnt),
    );
    const parsed = parseScopeResult(JSON.parse(JSON.stringify(again)), 'grandchild', NOW);
    assert.deepEqual(
      parsed.devices.map((device) => [device.deviceId, device.parentId]),
      [['leaf-9', undefined]],
    );
  });

  test('disabled identities, ones without usable credentials and bad ids are left out with why, never a key', () => {
    const parsed = parseScopeResult(
      {
        devices: [
          {
            deviceId: 'off',
            status: 'disabled',
            authentication: { type: 'sas', symmetricKey: { primaryKey: key(1) } },
          },
          { deviceId: 'ca', authentication: { type: 'certificateAuthority' } },
          { deviceId: 'nokey', authentication: { type: 'sas', symmetricKey: { primaryKey: null } } },
          { deviceId: 'bad#id', authentication: { type: 'sas', symmetricKey: { primaryKey: key(1) } } },
          { deviceId: 'short', authentication: { type: 'sas', symmetricKey: { primaryKey: 'c2hvcnQ=' } } },
          { deviceId: 'ok', authentication: { type: 'sas', symmetricKey: { primaryKey: key(1) } } },
        ],
        continuationLink: 'next',
      },
      'child-1',
      NOW,
    );
    assert.deepEqual(
      parsed.devices.map((device) => device.deviceId),
      ['ok'],
    );
    assert.equal(parsed.continuationLink, 'next');
    assert.equal(parsed.skipped.length, 5);
    assert.match(parsed.skipped.join('\n'), /"off": disabled/);
    assert.match(
      parsed.skipped.join('\n'),
      /"ca": authentication type "certificateAuthority" is not supported here/,
    );
    assert.doesNotMatch(parsed.skipped.join('\n'), /c2hvcnQ|AQEB/);
    assert.throws(() => parseScopeResult({ identities: [] }, 'child-1', NOW), ScopeResultError);
    assert.throws(
      () => parseScopeResult({ devices: [], continuationLink: 3 }, 'child-1', NOW),
      ScopeResultError,
    );
  });
});

describe('the refresh throttle', () => {
  test('one at a time, and not sooner than the interval after the last start', () => {
    const throttle = new RefreshThrottle(5000);
    assert.equal(throttle.mayStart(0), true);
    throttle.started(0);
    assert.equal(throttle.mayStart(10_000), false, 'one is running');
    throttle.finished();
    assert.equal(throttle.mayStart(4999), false);
    assert.equal(throttle.mayStart(5000), true);
  });
});

describe('the cached identities of a child', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'scope-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const leaf = (deviceId: string, fill: number): LeafDevice =>
    parseNewLeafDevice(
      { deviceId, authentication: { type: 'sas', primaryKey: key(fill), secondaryKey: key(fill) } },
      'child-1',
      NOW,
    );

  function cache(
    file: string,
    fetch: () => Promise<{ devices: LeafDevice[]; skipped: string[] }>,
    clock = { now: 0 },
  ) {
    const lines: string[] = [];
    const scope = new ScopeIdentities({
      file,
      deviceId: 'child-1',
      fetch,
      periodMs: 3_600_000,
      minIntervalMs: 5000,
      log: (line) => lines.push(line),
      now: () => clock.now,
    });
    return { scope, lines, clock };
  }

  test('a refresh is kept in a 0600 file that a new cache reads; removed and re-keyed devices are reported', async () => {
    const file = path.join(dir, 'a', 'scope-identities.json');
    let answer = [leaf('leaf-7', 5), leaf('leaf-8', 6)];
    const { scope } = cache(file, async () => ({ devices: answer, skipped: [] }));
    const changed: string[][] = [];
    scope.onChanged = (ids) => changed.push(ids);
    await scope.refresh();
    assert.equal(scope.get('leaf-7')?.deviceId, 'leaf-7');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const again = cache(file, async () => Promise.reject(new Error('unreachable'))).scope;
    await again.load();
    assert.deepEqual(again.get('leaf-8')?.authentication, leaf('leaf-8', 6).authentication);
    answer = [leaf('leaf-7', 9)];
    await scope.refresh();
    assert.deepEqual(changed, [['leaf-7', 'leaf-8']]);
    assert.equal(scope.get('leaf-8'), undefined);
    const reread = JSON.parse(await readFile(file, 'utf8')) as { devices: LeafDevice[] };
    assert.deepEqual(
      reread.devices.map((device) => device.deviceId),
      ['leaf-7'],
    );
  });

  test('unknown clients share one refresh in flight and are throttled; periodic refreshes are not', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const { scope, clock } = cache(path.join(dir, 'b.json'), async () => {
      calls += 1;
      await new Promise<void>((resolve) => (release = resolve));
      return { devices: [], skipped: [] };
    });
    const first = scope.refreshForUnknown('x');
    const second = scope.refreshForUnknown('x');
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await Promise.all([first, second]);
    assert.equal(calls, 1, 'one query for two unknown clients at once');
    clock.now = 1000;
    await Promise.all(Array.from({ length: 50 }, () => scope.refreshForUnknown('x')));
    assert.equal(calls, 1, 'a flood within the interval asks nothing');
    clock.now = 6000;
    const third = scope.refreshForUnknown('x');
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await third;
    assert.equal(calls, 2);
    const periodic = scope.refresh();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await periodic;
    assert.equal(calls, 3);
  });

  test('a refresh at start or a periodic one does not hold back the next unknown client', async () => {
    let calls = 0;
    const { scope, clock } = cache(path.join(dir, 'b2.json'), async () => {
      calls += 1;
      return { devices: [], skipped: [] };
    });
    await scope.refresh('at start');
    clock.now = 100;
    await scope.refreshForUnknown('bottom');
    assert.equal(calls, 2, 'an edge device registered above just after the start is asked for at once');
    clock.now = 200;
    await scope.refreshForUnknown('bottom');
    assert.equal(calls, 2, 'the unknown clients after it are throttled');
  });

  test('a refusal by the parent asks again, throttled with unknown clients, and the log names it', async () => {
    let answer = [leaf('leaf-7', 5), leaf('leaf-gone', 6)];
    let calls = 0;
    const { scope, lines, clock } = cache(path.join(dir, 'refused.json'), async () => {
      calls += 1;
      return { devices: answer, skipped: [] };
    });
    const changed: string[][] = [];
    scope.onChanged = (ids) => changed.push(ids);
    await scope.refresh();
    answer = [leaf('leaf-7', 5)];
    clock.now = 10_000;
    await scope.refreshForRefused('leaf-gone');
    assert.equal(calls, 2);
    assert.deepEqual(changed, [['leaf-gone']]);
    assert.match(
      lines.at(-1)!,
      /device scope \(the parent refused leaf-gone\): 1 identities .*removed or changed: leaf-gone/,
    );
    clock.now = 11_000;
    await scope.refreshForRefused('leaf-gone');
    await scope.refreshForUnknown('other');
    assert.equal(calls, 2, 'not again within the interval');
  });

  test('while the parent cannot be asked the cache answers, and the outage is logged once, without the token', async () => {
    const file = path.join(dir, 'c.json');
    let up = true;
    const { scope, lines } = cache(file, async () => {
      if (!up) throw new Error('127.0.0.1:443: ECONNREFUSED');
      return { devices: [leaf('leaf-7', 5)], skipped: [] };
    });
    await scope.refresh();
    up = false;
    await scope.refresh();
    await scope.refresh();
    assert.equal(scope.get('leaf-7')?.deviceId, 'leaf-7');
    assert.equal(lines.filter((line) => line.includes('cannot refresh')).length, 1);
    assert.match(
      lines.join('\n'),
      /cannot refresh from the parent \(127\.0\.0\.1:443: ECONNREFUSED\); the 1 cached identities answer/,
    );
    up = true;
    await scope.refresh();
    assert.match(lines[lines.length - 1]!, /device scope \(periodic\): 1 identities from the parent/);
  });

  test('started, it asks at once and then every period, until stopped', async () => {
    let calls = 0;
    const scope = new ScopeIdentities({
      file: path.join(dir, 'e.json'),
      deviceId: 'child-1',
      fetch: async () => {
        calls += 1;
        return { devices: [leaf(`leaf-${calls}`, 5)], skipped: [] };
      },
      periodMs: 20,
      minIntervalMs: 5000,
      log: () => undefined,
    });
    scope.start();
    try {
      for (let waits = 0; calls < 3 && waits < 500; waits += 1)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(calls >= 3, `asked ${calls} times`);
    } finally {
      scope.stop();
    }
    const stoppedAt = calls;
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.ok(calls <= stoppedAt + 1, 'no refresh after stop but one already running');
    assert.equal(scope.get('leaf-1'), undefined, 'replaced by the newer answers');
  });

  test('a broken cache file is logged and starts empty', async () => {
    const file = path.join(dir, 'd.json');
    await writeFile(file, '{"devices": 5}');
    const { scope, lines } = cache(file, async () => ({ devices: [], skipped: [] }));
    await scope.load();
    assert.equal(scope.size, 0);
    assert.match(lines.join('\n'), /the cache cannot be read, it starts empty: .*expected \{"devices"/);
  });
});

describe('a child authenticates identities from upstream', () => {
  const token = (deviceId: string, signingKey: string) =>
    buildSasToken({
      audience: `hub.example.net/devices/${deviceId}`,
      key: signingKey,
      expiry: Math.floor(NOW.getTime() / 1000) + 600,
    });

  test('an unknown client asks upstream first, then is tried again; a local registration wins', async () => {
    const upstream = new Map<string, LeafDevice>();
    let asked = 0;
    const local = new Map<string, LeafDevice>([
      [
        'both',
        parseNewLeafDevice(
          { deviceId: 'both', authentication: { type: 'sas', primaryKey: key(1), secondaryKey: key(1) } },
          'child-1',
          NOW,
        ),
      ],
    ]);
    const identities = new IdentityRegistry({
      deviceId: 'child-1',
      iothubHostname: 'hub.example.net',
      edgeHostname: 'child',
      generationId: async () => undefined,
      leafDevices: { get: (id) => local.get(id) },
      scopeIdentities: {
        get: (id) => upstream.get(id),
        refreshForUnknown: async () => {
          asked += 1;
          upstream.set(
            'leaf-7',
            parseNewLeafDevice(
              {
                deviceId: 'leaf-7',
                authentication: { type: 'sas', primaryKey: key(5), secondaryKey: key(5) },
              },
              'child-1',
              NOW,
            ),
          );
          upstream.set(
            'both',
            parseNewLeafDevice(
              { deviceId: 'both', authentication: { type: 'sas', primaryKey: key(2), secondaryKey: key(2) } },
              'child-1',
              NOW,
            ),
          );
        },
      },
      now: () => NOW,
    });
    const first = await identities.authenticateSas('leaf-7', undefined, token('leaf-7', key(5)));
    assert.equal(first.ok, true);
    assert.equal(asked, 1);
    assert.equal((await identities.authenticateSas('leaf-7', undefined, token('leaf-7', key(5)))).ok, true);
    assert.equal(asked, 1, 'a known client asks nothing');
    assert.equal((await identities.authenticateSas('both', undefined, token('both', key(1)))).ok, true);
    assert.equal(
      (await identities.authenticateSas('both', undefined, token('both', key(2)))).ok,
      false,
      'the local key wins',
    );
    const stranger = await identities.authenticateSas('stranger', undefined, token('stranger', key(5)));
    assert.deepEqual(stranger, { ok: false, reason: 'unknown identity stranger' });
    assert.equal(asked, 2);
  });

  test('a middle layer asks upstream for an acting edge device and its targets it does not know yet', async () => {
    // the middle of three layers: the top registered bottom (an edge device below the middle) and
    // a leaf below bottom after the middle's last refresh
    const upstream = new Map<string, LeafDevice>();
    let asked = 0;
    const identities = new IdentityRegistry({
      deviceId: 'middle',
      iothubHostname: 'hub.example.net',
      edgeHostname: 'middle',
      generationId: async () => undefined,
      leafDevices: { get: () => undefined },
      scopeIdentities: {
        get: (id) => upstream.get(id),
        refreshForUnknown: async () => {
          asked += 1;
          const learnt = [
            { deviceId: 'bottom', edge: true, authentication: { type: 'sas', primaryKey: key(6) } },
            { deviceId: 'leaf-9', parentId: 'bottom', authentication: { type: 'sas', primaryKey: key(7) } },
          ];
          for (const body of learnt) upstream.set(body.deviceId, parseNewLeafDevice(body, 'middle', NOW));
        },
      },
      now: () => NOW,
    });
    const bottomHub = buildSasToken({
      audience: 'hub.example.net/devices/bottom/modules/$edgeHub',
      key: edgeHubModuleKey(key(6)),
      expiry: Math.floor(NOW.getTime() / 1000) + 600,
    });
    const module = await identities.onBehalfOf('bottom', 'sensor', 'bottom/sensor;bottom', bottomHub);
    assert.ok(module.ok, module.ok ? '' : module.reason);
    assert.equal(asked, 1, 'the unknown actor asked upstream once');
    const leaf = await identities.onBehalfOf('leaf-9', undefined, 'leaf-9;bottom', bottomHub);
    assert.ok(leaf.ok, leaf.ok ? '' : leaf.reason);
    assert.equal((await identities.authenticateEdgeHub('bottom', bottomHub)).ok, true);
    assert.equal(asked, 1, 'known ones ask nothing');
    upstream.clear();
    const scopeCaller = await identities.authenticateEdgeHub('bottom', bottomHub);
    assert.equal(scopeCaller.ok, true, "the scope API's caller is asked for too");
    assert.equal(asked, 2);
    const stranger = await identities.onBehalfOf('far', 'm', 'far/m;far', bottomHub);
    assert.deepEqual(stranger, { ok: false, reason: 'unknown identity far/$edgeHub' });
  });
});
