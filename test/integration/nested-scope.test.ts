import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { edgeHubModuleKey } from '../../src/runtime/identity/module-keys.js';
import { buildSasToken } from '../../src/runtime/identity/sas.js';
import { TestDaemon, eventually, hubPorts, manifest, nodeModule } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import { LeafDevice, expectRebootAnswered } from '../helpers/leaf-device.js';
import { childDaemon, cleanupDaemons, recorded, rootCaOf } from '../helpers/nested.js';

const IOTHUB = 'hub.example.net';
const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
/** Devices registered below the child besides the named ones. */
const BULK = 120;
const bulkId = (index: number) => `bulk-${String(index).padStart(3, '0')}`;
const bulkIds = Array.from({ length: BULK }, (_, index) => bulkId(index));

/** A deployment with the given modules and routes, the hub's MQTT and HTTPS on the given ports. */
function deployment(
  modules: Record<string, Record<string, unknown>>,
  routes: Record<string, string>,
  mqttPort: number,
  httpsPort = 0,
) {
  const document = manifest(modules);
  const agent = document.modulesContent.$edgeAgent['properties.desired'] as {
    systemModules: { edgeHub: { settings: { createOptions: string } } };
  };
  agent.systemModules.edgeHub.settings.createOptions = hubPorts(mqttPort, httpsPort);
  document.modulesContent.$edgeHub['properties.desired'].routes = routes;
  return document;
}

/** POST to the parent's device-scope API; the status and the parsed answer. */
function askScope(
  port: number,
  ca: string,
  actor: string,
  body: unknown,
  authorization?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        ca,
        method: 'POST',
        path: `/devices/${actor}/modules/%24edgeHub/devicesAndModulesInTargetDeviceScope?api-version=2020-06-30-preview`,
        headers: {
          'Content-Type': 'application/json',
          ...(authorization === undefined ? {} : { Authorization: authorization }),
        },
      },
      (response) => {
        let answer = '';
        response.on('data', (chunk) => (answer += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(answer) as Record<string, unknown> }),
        );
      },
    );
    request.on('error', reject);
    request.end(text);
  });
}

describe('nested edge: a child learns its device scope from its parent and keeps it for offline', () => {
  const parent = new TestDaemon({}, [], 'localhost');
  let child: TestDaemon | undefined;
  const leaves: LeafDevice[] = [];
  const records = path.join(parent.dir, 'received.txt');
  /** What the parent's second recorder got from leaf-cut. */
  const cutRecords = path.join(parent.dir, 'received-cut.txt');
  let parentMqtt = 0;
  let parentHttps = 0;
  let childMqtt = 0;
  let parentCa = '';
  let childCa = '';
  let childKey = '';
  const edgeHubToken = (deviceId: string, deviceKey: string) =>
    buildSasToken({
      audience: `${IOTHUB}/devices/${deviceId}/modules/$edgeHub`,
      key: edgeHubModuleKey(deviceKey),
      expiry: Math.floor(Date.now() / 1000) + 600,
    });
  const leaf = (deviceId: string, deviceKey: string, count = 0, twin = false, everyMs?: number) => {
    const device = new LeafDevice(
      `HostName=${IOTHUB};DeviceId=${deviceId};SharedAccessKey=${deviceKey};GatewayHostName=localhost:${childMqtt}`,
      childCa,
      count,
      undefined,
      'mqtt',
      twin,
      everyMs,
    );
    leaves.push(device);
    return device;
  };
  const onParent = (args: string[]) => {
    const run = parent.cli(args);
    assert.equal(run.code, 0, run.stderr);
    return run.stdout;
  };

  before(async () => {
    [parentMqtt, parentHttps, childMqtt] = await Promise.all([freePort(), freePort(), freePort()]);
    await parent.start();
    const posted = await parent.request(
      'POST',
      '/deployment',
      deployment(
        {
          recorder: nodeModule('upstream-recorder.js', [records]),
          cutrecorder: nodeModule('upstream-recorder.js', [cutRecords]),
        },
        {
          fromLeaves: `FROM /messages WHERE $connectionDeviceId = 'leaf-7' INTO BrokeredEndpoint("/modules/recorder/inputs/in1")`,
          fromCut: `FROM /messages WHERE $connectionDeviceId = 'leaf-cut' INTO BrokeredEndpoint("/modules/cutrecorder/inputs/in1")`,
        },
        parentMqtt,
        parentHttps,
      ),
    );
    assert.equal(posted.status, 200, posted.body);
    parentCa = rootCaOf(parent);
    const created = JSON.parse(onParent(['identity', 'add', 'child-1', '--edge', '--json'])) as {
      connectionString: string;
      primaryKey: string;
    };
    childKey = created.primaryKey;
    onParent(['identity', 'add', 'child-2', '--edge']);
    onParent(['identity', 'add', 'leaf-7', '--parent', 'child-1', '--key', key(7)]);
    onParent(['identity', 'add', 'leaf-gone', '--parent', 'child-1', '--key', key(8)]);
    onParent(['identity', 'add', 'leaf-cut', '--parent', 'child-1', '--key', key(12)]);
    onParent(['identity', 'add', 'leaf-8', '--parent', 'child-2', '--key', key(9)]);
    onParent(['identity', 'add', 'outsider', '--key', key(10)]);
    // more than the child's page of 100: it reads its scope in two pages
    for (let index = 0; index < BULK; index += 1) {
      const bulk = await parent.request('POST', '/devices', { deviceId: bulkId(index), parentId: 'child-1' });
      assert.equal(bulk.status, 201, bulk.body);
    }

    child = childDaemon(parent, parentMqtt, created.connectionString);
    child.env.IOTEDGE_PARENT_HTTPS_PORT = String(parentHttps);
    await child.start();
    childCa = rootCaOf(child);
    const routed = await child.request(
      'POST',
      '/deployment',
      deployment(
        {},
        { leaves: 'FROM /messages WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream' },
        childMqtt,
      ),
    );
    assert.equal(routed.status, 200, routed.body);
  });

  after(async () => {
    await Promise.all(leaves.map((device) => device.stop()));
    await cleanupDaemons(child, parent);
  });

  test("the parent's scope API: 401 without or with a bad token, 403 outside the scope, 404 for an unknown target, pages", async () => {
    const ca = readFileSync(parentCa, 'utf8');
    const good = edgeHubToken('child-1', childKey);
    const none = await askScope(parentHttps, ca, 'child-1', { authChain: 'child-1' });
    assert.equal(none.status, 401);
    assert.match(
      String(none.body.message),
      /Authorization: the SharedAccessSignature of child-1\/\$edgeHub is required/,
    );
    const bad = await askScope(
      parentHttps,
      ca,
      'child-1',
      { authChain: 'child-1' },
      edgeHubToken('child-1', key(1)),
    );
    assert.equal(bad.status, 401);
    assert.match(String(bad.body.message), /^Unauthorized: not a valid token of an edge device's \$edgeHub/);
    // the daemon's log reaches the test a moment after its answer
    await eventually(
      async () =>
        /device scope: refused child-1\/\$edgeHub: child-1\/\$edgeHub: /.test(parent.output)
          ? true
          : undefined,
      'why, in the log',
    );
    const leafActor = await askScope(
      parentHttps,
      ca,
      'leaf-7',
      { authChain: 'leaf-7' },
      edgeHubToken('leaf-7', key(7)),
    );
    assert.equal(leafActor.status, 401, 'a leaf device has no $edgeHub');
    const other = await askScope(parentHttps, ca, 'child-1', { authChain: 'child-2' }, good);
    assert.equal(other.status, 403);
    assert.equal(other.body.message, 'child-2 is not in the scope of child-1');
    const unknown = await askScope(parentHttps, ca, 'child-1', { authChain: 'nobody' }, good);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.message, 'device nobody is not registered here');
    const malformed = await askScope(parentHttps, ca, 'child-1', { pageSize: 3 }, good);
    assert.equal(malformed.status, 400);
    assert.match(String(malformed.body.message), /^authChain: /);

    const ids: string[] = [];
    let link: unknown;
    let pages = 0;
    do {
      const page = await askScope(
        parentHttps,
        ca,
        'child-1',
        { authChain: 'child-1', pageSize: 50, ...(link ? { continuationLink: link } : {}) },
        good,
      );
      assert.equal(page.status, 200, JSON.stringify(page.body));
      const devices = page.body.devices as {
        deviceId: string;
        authentication: { symmetricKey: { primaryKey: string } };
      }[];
      ids.push(...devices.map((device) => device.deviceId));
      if (devices.some((device) => device.deviceId === 'leaf-7'))
        assert.equal(
          devices.find((device) => device.deviceId === 'leaf-7')!.authentication.symmetricKey.primaryKey,
          key(7),
        );
      link = page.body.continuationLink;
      pages += 1;
    } while (link !== undefined);
    assert.deepEqual(ids, [...bulkIds, 'child-1', 'leaf-7', 'leaf-cut', 'leaf-gone']);
    assert.equal(pages, 3);
    assert.doesNotMatch(parent.output, /sig=/, 'no token in the log');
  });

  test('a leaf device registered only on the parent connects to the child (SDK, MQTT); its telemetry reaches the parent; one outside the scope is refused', async () => {
    const leaf7 = leaf('leaf-7', key(7), 3);
    await leaf7.said('sent 3');
    const arrived = await eventually(async () => {
      const lines = existsSync(records)
        ? readFileSync(records, 'utf8')
            .split('\n')
            .filter((line) => line !== '')
        : [];
      return lines.length >= 3 ? lines : undefined;
    }, "leaf-7's messages at the parent");
    assert.deepEqual(
      arrived.map((line) => line.split(' ')[0]),
      ['0', '1', '2'],
    );
    const cache = path.join(child!.homedir, 'hub', 'scope-identities.json');
    assert.equal(statSync(cache).mode & 0o777, 0o600);
    const cached = JSON.parse(readFileSync(cache, 'utf8')) as { devices: { deviceId: string }[] };
    assert.deepEqual(cached.devices.map((device) => device.deviceId).sort(), [
      ...bulkIds,
      'leaf-7',
      'leaf-cut',
      'leaf-gone',
    ]);

    const outsider = leaf('outsider', key(10));
    await outsider.said('open failed');
    const stranger = leaf('leaf-8', key(9));
    await stranger.said('open failed');
    assert.match(child!.output, /refused "?outsider"?: unknown identity outsider/);
  });

  test("the next refresh, which an unknown client or the parent's refusal of a removed device asks for, brings a new device in and disconnects and refuses a removed one", async () => {
    const gone = leaf('leaf-gone', key(8));
    await gone.said('connected');
    // added first: the refresh that the parent's refusal of leaf-gone brings about sees both
    onParent(['identity', 'add', 'leaf-late', '--parent', 'child-1', '--key', key(11)]);
    onParent(['identity', 'remove', 'leaf-gone']);
    // the periodic refresh is 5 minutes away; unknown clients ask at most every 5 s (the last asked in the previous test)
    await new Promise((resolve) => setTimeout(resolve, 5500));
    const late = leaf('leaf-late', key(11));
    await late.said('connected');
    assert.match(
      child!.output,
      /device scope \([^)]*\): 123 identities from the parent, new: leaf-late, removed or changed: leaf-gone/,
    );
    await eventually(
      async () =>
        /refused "?leaf-gone"?: unknown identity leaf-gone/.test(child!.output) ? true : undefined,
      "the SDK's reconnection of leaf-gone to be refused",
      30_000,
    );
    const again = leaf('leaf-gone', key(8));
    await again.said('open failed');
  });

  test("on the child, identity list and invoke see the parent's devices; removed on the parent, a leaf device's upstream connection ends at once, its twin goes, its telemetry stops and the child's attempts for it are refused, a few times only", async () => {
    const patched = await parent.request('PATCH', '/devices/leaf-cut/twin', {
      properties: { desired: { colour: 'red' } },
    });
    assert.equal(patched.status, 200, patched.body);
    const twinsFile = path.join(parent.homedir, 'hub', 'twins.json');
    const parentTwins = () =>
      (JSON.parse(readFileSync(twinsFile, 'utf8')) as { twins: Record<string, unknown> }).twins;
    await eventually(async () => (parentTwins()['leaf-cut'] ? true : undefined), "leaf-cut's twin saved");
    // the SDK device reads the desired properties the parent holds, then sends every 200 ms
    const cut = leaf('leaf-cut', key(12), 0, true, 200);
    await cut.said(/twin \{"colour":"red"/);
    await eventually(
      async () => (recorded(cutRecords).length >= 3 ? true : undefined),
      "leaf-cut's messages at the parent",
    );

    // on the child, what its hub authenticates is what its CLI shows and reaches
    const listed = child!.cli(['identity', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const devices = (JSON.parse(listed.stdout) as { devices: Record<string, unknown>[] }).devices;
    const shown = devices.find((device) => device.deviceId === 'leaf-cut');
    assert.equal(shown?.registeredAt, 'parent', JSON.stringify(shown));
    assert.equal(shown?.connectionState, 'Connected');
    assert.match(child!.cli(['identity', 'list']).stdout, /^leaf-cut\s+sas\s+connected\s+\S+\s+parent$/m);
    expectRebootAnswered(child!, 'leaf-cut');
    const notHere = child!.cli(['identity', 'remove', 'leaf-cut']);
    assert.equal(notHere.code, 1);
    assert.match(
      notHere.stderr,
      /leaf-cut is not registered here: it comes from the parent edge device's scope; remove it there/,
    );

    const parentMark = parent.output.length;
    const childMark = child!.output.length;
    const removed = await parent.request('DELETE', '/devices/leaf-cut');
    assert.equal(removed.status, 204, removed.body);
    // the last acknowledgement read here may lag the device's by the pipe's latency, but the device
    // sent the one after next only 200 ms after the next one: after the parent forgot leaf-cut
    const lastBefore = cut.lastAcked() + 1;
    assert.match(
      parent.output.slice(parentMark),
      /hub: leaf-cut: its connection ends: leaf-cut is not in the scope of child-1/,
      'the connection the child kept on its behalf ended with the removal',
    );
    await eventually(async () => (parentTwins()['leaf-cut'] ? undefined : true), "leaf-cut's twin gone");

    // the child still holds leaf-cut in its cached scope: its messages go up, and are refused
    await eventually(
      async () =>
        /upstream: \S+ refused leaf-cut \(.*\); its messages are dropped/.test(child!.output.slice(childMark))
          ? true
          : undefined,
      "the parent's refusal of leaf-cut's messages",
    );
    // the refusal makes the child ask its scope again: it forgets leaf-cut and refuses the SDK's reconnection
    await eventually(
      async () =>
        /device scope \([^)]*\): 122 identities from the parent, removed or changed: leaf-cut/.test(
          child!.output,
        )
          ? true
          : undefined,
      'the child to drop leaf-cut from its scope',
    );
    await eventually(
      async () =>
        /refused "?leaf-cut"?: unknown identity leaf-cut/.test(child!.output.slice(childMark))
          ? true
          : undefined,
      "the SDK's reconnection of leaf-cut to be refused by the child",
      30_000,
    );
    assert.deepEqual(
      recorded(cutRecords).filter((seq) => seq > lastBefore),
      [],
      'nothing the child took after the removal reached the parent',
    );
    const refusals = parent.output.slice(parentMark).match(/mqtt: refused leaf-cut: /g)?.length ?? 0;
    assert.ok(refusals >= 1 && refusals <= 4, `the parent refused leaf-cut ${refusals} times`);
    assert.equal(
      (
        JSON.parse(child!.cli(['identity', 'list', '--json']).stdout) as { devices: { deviceId: string }[] }
      ).devices.some((device) => device.deviceId === 'leaf-cut'),
      false,
    );
    await cut.stop();
  });

  test('with the parent away, a restarted child still authenticates leaf-7 from its cache; the outage is logged once, without a token', async () => {
    const running = child!;
    // the devices of the earlier tests go: a second leaf-7 connection would take the first one's place
    await Promise.all(leaves.map((device) => device.stop()));
    await parent.signal('SIGTERM');
    await running.signal('SIGTERM');
    const before = running.output.length;
    await running.start();
    const leaf7 = leaf('leaf-7', key(7), 2);
    await leaf7.said('sent 2');
    assert.equal(leaf7.output.match(/disconnect/g), null, 'leaf-7 stays connected');
    await new Promise((resolve) => setTimeout(resolve, 7000));
    const since = running.output.slice(before);
    assert.equal(since.match(/device scope: cannot refresh from the parent/g)?.length, 1, since);
    assert.match(
      since,
      /cannot refresh from the parent \(127\.0\.0\.1:\d+: ECONNREFUSED\); the 122 cached identities answer/,
    );
    assert.doesNotMatch(running.output, /sig=|SharedAccessSignature/);
  });
});
