import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ChildIdentityClient } from '../helpers/child-identity.js';
import { TestDaemon, eventually, hubPorts, manifest, nodeModule } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import type { HubEndpoint } from '../helpers/mqtt-client.js';

const IOTHUB = 'hub.example.net';
const CHILD = 'child-1';

/** A deployment for the child: its agent's and hub's desired properties, and module `filter`'s. */
function childManifest(threshold: number | undefined, routes: Record<string, string> = {}) {
  const document = manifest(threshold === undefined ? {} : { filter: nodeModule('ticker.js') }) as {
    modulesContent: Record<string, { 'properties.desired': Record<string, unknown> }>;
  };
  document.modulesContent.$edgeHub!['properties.desired'].routes = routes;
  if (threshold !== undefined) document.modulesContent.filter = { 'properties.desired': { threshold } };
  return document;
}

describe('nested edge: the parent is the authority for its child edge device', () => {
  const parent = new TestDaemon({}, [], 'localhost');
  let endpoint: HubEndpoint;
  let childKey = '';
  const clients: ChildIdentityClient[] = [];

  /** Writes a manifest to a file and runs `iotedge deploy --device DEVICE FILE` (and `extra` flags). */
  function deployFile(device: string, document: unknown, extra: string[] = []) {
    const file = path.join(parent.dir, `manifest-${Date.now()}-${Math.random()}.json`);
    writeFileSync(file, typeof document === 'string' ? document : JSON.stringify(document));
    return parent.cli(['deploy', '--device', device, file, ...extra]);
  }

  async function connectAs(identity: string): Promise<ChildIdentityClient> {
    const client = await ChildIdentityClient.connect(endpoint, {
      iothub: IOTHUB,
      child: CHILD,
      childKey,
      identity,
    });
    clients.push(client);
    await client.subscribe('$iothub/twin/res/#');
    return client;
  }

  before(async () => {
    const port = await freePort();
    await parent.start();
    const parentManifest = manifest({});
    (
      parentManifest.modulesContent.$edgeAgent['properties.desired'] as {
        systemModules: { edgeHub: { settings: { createOptions: string } } };
      }
    ).systemModules.edgeHub.settings.createOptions = hubPorts(port, 0);
    const posted = await parent.request('POST', '/deployment', parentManifest);
    assert.equal(posted.status, 200, posted.body);
    const added = parent.cli(['identity', 'add', CHILD, '--edge', '--json']);
    assert.equal(added.code, 0, added.stderr);
    childKey = (JSON.parse(added.stdout) as { primaryKey: string }).primaryKey;
    const leaf = parent.cli(['identity', 'add', 'sensor9']);
    assert.equal(leaf.code, 0, leaf.stderr);
    endpoint = {
      host: '127.0.0.1',
      port,
      hostname: 'localhost',
      ca: readFileSync(path.join(parent.homedir, 'hsm/certs/edge_owner_ca.cert.pem'), 'utf8'),
    };
  });

  after(async () => {
    if (process.env.DEBUG_DAEMON) console.log(parent.output);
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await parent.cleanup();
  });

  test('a deployment for an unknown device is 404, for a leaf device 400, and a broken one 400 naming the field', async () => {
    const unknown = deployFile('child-9', childManifest(1));
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /no edge device child-9 is registered here \(register it with: iotedge identity add child-9 --edge\)/,
    );
    assert.equal((await parent.request('POST', '/devices/child-9/deployment', childManifest(1))).status, 404);
    assert.equal((await parent.request('GET', '/devices/child-9/deployment/status')).status, 404);
    const unknownStatus = parent.cli(['deploy', '--status', '--device', 'child-9']);
    assert.equal(unknownStatus.code, 1);
    assert.match(unknownStatus.stderr, /no edge device child-9/);

    const itself = deployFile('edge-1', childManifest(1));
    assert.equal(itself.code, 1);
    assert.match(itself.stderr, /edge-1 is this device: its own deployment is iotedge deploy FILE/);
    const leaf = await parent.request('POST', '/devices/sensor9/deployment', childManifest(1));
    assert.equal(leaf.status, 400);
    assert.match(leaf.body, /sensor9 is a leaf device, not an edge device/);

    const noHub = childManifest(1) as { modulesContent: Record<string, unknown> };
    delete noHub.modulesContent.$edgeHub;
    const missing = deployFile(CHILD, noHub);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /\$edgeHub: missing/);
    const badModule = childManifest(1) as { modulesContent: Record<string, unknown> };
    badModule.modulesContent.filter = { 'properties.desired': 'high' };
    const bad = await parent.request('POST', `/devices/${CHILD}/deployment`, badModule);
    assert.equal(bad.status, 400);
    assert.match(
      JSON.parse(bad.body).message,
      /^filter\.properties\.desired: expected an object, found a string/,
    );
    const notObject = await parent.request('POST', `/devices/${CHILD}/deployment`, '[1]');
    assert.equal(notObject.status, 400);
    assert.match(notObject.body, /\(manifest\): expected a JSON object/);
  });

  test('before the child reports, --status --device prints {} and says so', () => {
    const status = parent.cli(['deploy', '--status', '--device', CHILD]);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout), {});
    assert.match(status.stderr, /child-1's agent has reported nothing yet/);
    const json = parent.cli(['deploy', '--status', '--device', CHILD, '--json']);
    assert.deepEqual(JSON.parse(json.stdout), {});
    assert.equal(json.stderr, '');
  });

  test("the child's identities read their desired properties, hear each new deployment and report back", async () => {
    const first = childManifest(30, { up: 'FROM /messages/* INTO $upstream' });
    const deployed = deployFile(CHILD, first);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(
      deployed.stdout,
      /^Deployment set for child-1 \(desired \$version 2\); its agent reports the result: iotedge deploy --status --device child-1\n$/,
    );

    const agent = await connectAs(`${CHILD}/$edgeAgent`);
    const hub = await connectAs(`${CHILD}/$edgeHub`);
    const filter = await connectAs(`${CHILD}/filter`);
    const agentTwin = await agent.twin('GET');
    assert.equal(agentTwin.status, 200);
    const desired = (agentTwin.body as { desired: Record<string, unknown> }).desired;
    assert.deepEqual(desired, { ...first.modulesContent.$edgeAgent!['properties.desired'], $version: 2 });
    const hubTwin = (await hub.twin('GET')).body as { desired: { routes: unknown } };
    assert.deepEqual(hubTwin.desired.routes, { up: 'FROM /messages/* INTO $upstream' });
    assert.deepEqual((await filter.twin('GET')).body, {
      desired: { threshold: 30, $version: 2 },
      reported: { $version: 1 },
    });

    for (const client of [agent, filter]) await client.subscribe('$iothub/twin/PATCH/properties/desired/#');
    const agentMark = agent.count;
    const filterMark = filter.count;
    const second = deployFile(CHILD, childManifest(35, { up: 'FROM /messages/* INTO $upstream' }), [
      '--json',
    ]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout), { deviceId: CHILD, version: 2 });
    const filterPatch = await filter.next('$iothub/twin/PATCH/properties/desired/', filterMark);
    assert.equal(filterPatch.topic, '$iothub/twin/PATCH/properties/desired/?$version=3');
    assert.deepEqual(JSON.parse(filterPatch.payload.toString()), { threshold: 35, $version: 3 });
    // the agent's desired properties did not change: no patch for it, its version stays
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(agent.count, agentMark);

    // a schema version the child's agent will refuse: the parent takes it, as IoT Hub does
    const third = childManifest(35) as {
      modulesContent: { $edgeAgent: { 'properties.desired': Record<string, unknown> } };
    };
    third.modulesContent.$edgeAgent['properties.desired'].schemaVersion = '9.0';
    const accepted = deployFile(CHILD, third);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /desired \$version 3/);
    const agentPatch = await agent.next('$iothub/twin/PATCH/properties/desired/', agentMark);
    assert.equal(agentPatch.topic, '$iothub/twin/PATCH/properties/desired/?$version=3');
    assert.equal(
      (JSON.parse(agentPatch.payload.toString()) as { schemaVersion: string }).schemaVersion,
      '9.0',
    );

    const reported = {
      schemaVersion: '1.1',
      lastDesiredVersion: 3,
      lastDesiredStatus: {
        code: 412,
        description: 'schemaVersion: unsupported version 9.0; supported: 1.0, 1.1',
      },
      modules: { filter: { runtimeStatus: 'running', restartCount: 0 } },
    };
    const patched = await agent.twin('PATCH', reported);
    assert.equal(patched.status, 204);
    assert.equal(patched.version, 2);
    const status = parent.cli(['deploy', '--status', '--device', CHILD]);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout), reported);
    assert.equal(status.stderr, '');
    const next = await agent.twin('PATCH', { modules: { filter: { restartCount: 1 } } });
    assert.equal(next.version, 3);
    const merged = JSON.parse(
      parent.cli(['deploy', '--status', '--device', CHILD, '--json']).stdout,
    ) as typeof reported;
    assert.deepEqual(merged.modules.filter, { runtimeStatus: 'running', restartCount: 1 });
    await hub.twin('PATCH', { schemaVersion: '1.0', lastDesiredStatus: { code: 200 } });
    const hubStatus = parent.cli(['deploy', '--status', '--hub', '--device', CHILD]);
    assert.deepEqual(JSON.parse(hubStatus.stdout), {
      schemaVersion: '1.0',
      lastDesiredStatus: { code: 200 },
    });

    // filter leaves the deployment: its desired properties are cleared
    const beforeRemoval = filter.count;
    const withoutFilter = deployFile(CHILD, childManifest(undefined));
    assert.equal(withoutFilter.code, 0, withoutFilter.stderr);
    const cleared = await filter.next('$iothub/twin/PATCH/properties/desired/', beforeRemoval);
    assert.deepEqual(JSON.parse(cleared.payload.toString()), { threshold: null, $version: 4 });
  });

  test("invoke child-1/MODULE reaches the child's connection for that module and returns its answer", async () => {
    const filter = await connectAs(`${CHILD}/filter`);
    const calls: unknown[] = [];
    await filter.answerMethods((name, payload) => {
      calls.push({ name, payload });
      return { status: 201, payload: { threshold: (payload as { threshold: number }).threshold + 1 } };
    });
    const invoked = await parent.cliAsync([
      'invoke',
      `${CHILD}/filter`,
      'setThreshold',
      '--payload',
      '{"threshold": 41}',
    ]);
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.deepEqual(JSON.parse(invoked.stdout), { status: 201, payload: { threshold: 42 } });
    assert.deepEqual(calls, [{ name: 'setThreshold', payload: { threshold: 41 } }]);

    const absent = parent.cli(['invoke', `${CHILD}/other`, 'setThreshold']);
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /child-1\/other is not connected or not listening for methods/);
    const notListening = await connectAs(`${CHILD}/quiet`);
    const quiet = await parent.request('POST', '/methods', { target: `${CHILD}/quiet`, methodName: 'm' });
    assert.equal(quiet.status, 404);
    await notListening.close();
  });

  test("the child shows Connected while its link is up; its identities are $edgeHub clients while connected, never the parent's modules", async () => {
    const childState = async () =>
      (
        await parent.json<{ devices: { deviceId: string; connectionState: string }[] }>('GET', '/devices')
      ).devices.find((device) => device.deviceId === CHILD)?.connectionState;
    const link = await connectAs(`${CHILD}/$edgeHub`);
    assert.equal(await childState(), 'Connected', "the child's link stands for the child");
    await link.close();
    await eventually(
      async () => ((await childState()) === 'Disconnected' ? true : undefined),
      'the child to show Disconnected',
    );
    const module = await connectAs(`${CHILD}/lister`);
    const clientsOf = () =>
      (
        JSON.parse(parent.cli(['deploy', '--status', '--hub']).stdout) as {
          clients: Record<string, { status: string }>;
        }
      ).clients;
    assert.equal(clientsOf()['child-1/lister']?.status, 'Connected');
    await module.close();
    await eventually(
      async () => (clientsOf()['child-1/lister'] === undefined ? true : undefined),
      'lister to leave the clients',
    );
    const list = parent.cli(['list']);
    assert.equal(list.code, 0, list.stderr);
    assert.doesNotMatch(list.stdout, /child-1|filter|lister/);
    const identities = await parent.json<{ identities: { moduleId: string }[] }>('GET', '/identities');
    assert.ok(
      identities.identities.every((identity) => !/filter|lister|\$edgeAgent/.test(identity.moduleId)),
    );
  });

  test("a parent killed right after answering keeps the child's deployment and reported properties", async () => {
    const agent = await connectAs(`${CHILD}/$edgeAgent`);
    const reported = await agent.twin('PATCH', { lastDesiredVersion: 5 });
    assert.equal(reported.status, 204);
    const deployed = deployFile(CHILD, childManifest(50), ['--json']);
    assert.equal(deployed.code, 0, deployed.stderr);
    const { version } = JSON.parse(deployed.stdout) as { version: number };
    const before = JSON.parse(parent.cli(['deploy', '--status', '--device', CHILD]).stdout) as unknown;
    const agentBefore = (await agent.twin('GET')).body as { desired: { $version: number } };
    assert.equal(agentBefore.desired.$version, version);
    // both answers came before the kill: they must have been on disk
    await parent.signal('SIGKILL');
    await parent.start();
    const status = parent.cli(['deploy', '--status', '--device', CHILD]);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout), before);
    assert.equal((before as { lastDesiredVersion: number }).lastDesiredVersion, 5);
    const again = await eventually(
      () => connectAs(`${CHILD}/$edgeAgent`),
      'the parent to take connections again',
    );
    assert.deepEqual((await again.twin('GET')).body, agentBefore);
    const filter = await connectAs(`${CHILD}/filter`);
    assert.deepEqual((await filter.twin('GET')).body, {
      desired: { threshold: 50, $version: 5 },
      reported: { $version: 1 },
    });
  });
  test('an unregistered child loses its connections, those it keeps for the devices below it and its twins, and registered again starts afresh', async () => {
    const below = parent.cli(['identity', 'add', 'below-1', '--parent', CHILD]);
    assert.equal(below.code, 0, below.stderr);
    const agent = await connectAs(`${CHILD}/$edgeAgent`);
    const filter = await connectAs(`${CHILD}/filter`);
    const leaf = await connectAs('below-1');
    let leafClosed = false;
    void leaf.closed().then(() => (leafClosed = true));
    const removed = parent.cli(['identity', 'remove', CHILD]);
    assert.equal(removed.code, 0, removed.stderr);
    await eventually(async () => (leafClosed ? true : undefined), "below-1's connection to end");
    await Promise.all([agent.closed(), filter.closed()]);
    assert.match(
      parent.output,
      /hub: below-1: its connection ends: child-1 is not an edge device registered here/,
    );
    assert.equal((await parent.request('GET', `/devices/${CHILD}/deployment/status`)).status, 404);
    const added = parent.cli(['identity', 'add', CHILD, '--edge', '--json']);
    assert.equal(added.code, 0, added.stderr);
    childKey = (JSON.parse(added.stdout) as { primaryKey: string }).primaryKey;
    assert.deepEqual(JSON.parse(parent.cli(['deploy', '--status', '--device', CHILD]).stdout), {});
    const fresh = await connectAs(`${CHILD}/$edgeAgent`);
    assert.deepEqual((await fresh.twin('GET')).body, { desired: { $version: 1 }, reported: { $version: 1 } });
  });
});
