import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, hubPorts, manifest, nodeModule } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import { childDaemon, cleanupDaemons, rootCaOf } from '../helpers/nested.js';
import { LeafDevice } from '../helpers/leaf-device.js';

const LEAF_KEY = Buffer.alloc(32, 7).toString('base64');

/** A deployment for process modules with the hub's MQTT and HTTPS on the given ports. */
function deployment(
  modules: Record<string, Record<string, unknown>>,
  routes: Record<string, string>,
  ports: { mqtt: number; https: number },
  moduleTwins: Record<string, Record<string, unknown>> = {},
) {
  const document = manifest(modules) as ReturnType<typeof manifest> & {
    modulesContent: Record<string, unknown>;
  };
  const agent = document.modulesContent.$edgeAgent['properties.desired'] as {
    systemModules: { edgeHub: { settings: { createOptions: string } } };
  };
  agent.systemModules.edgeHub.settings.createOptions = hubPorts(ports.mqtt, ports.https);
  document.modulesContent.$edgeHub['properties.desired'].routes = routes;
  for (const [name, desired] of Object.entries(moduleTwins))
    document.modulesContent[name] = { 'properties.desired': desired };
  return document;
}

interface AgentReported {
  lastDesiredStatus?: { code: number; description?: string };
  lastDesiredVersion?: number;
  modules?: Record<string, { runtimeStatus?: string }>;
  systemModules?: { edgeAgent?: { lastStartTimeUtc?: string } };
}

/** What a parent knows of its child's agent: `iotedge deploy --status --device child-1`. */
function childStatus(parent: TestDaemon): AgentReported {
  const shown = parent.cli(['deploy', '--status', '--device', 'child-1']);
  assert.equal(shown.code, 0, shown.stderr);
  return JSON.parse(shown.stdout) as AgentReported;
}

/** The seqs the parent's recorder module got, in order. */
function recorded(file: string): string[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
    : [];
}

// The whole story in one run; methods, C2D and the newest-wins rule are in nested-managed.test.ts.
describe('nested management: a parent deploys to its child edge device and sees its state', () => {
  const parent = new TestDaemon({}, [], 'localhost');
  let child: TestDaemon;
  const ports = { parent: { mqtt: 0, https: 0 }, child: { mqtt: 0, https: 0 } };
  const records = path.join(parent.dir, 'received.txt');
  const childManifest = path.join(parent.dir, 'child-deployment.json');
  const leaves: LeafDevice[] = [];
  let childCa = '';

  /** Writes the child's deployment (its receiver module with the given desired threshold) for the parent to push. */
  function writeChildDeployment(threshold: number, schemaVersion = '1.1'): void {
    const document = deployment(
      { receiver: nodeModule('sdk-module.js', ['receiver']) },
      { leafUp: `FROM /messages/* WHERE $connectionDeviceId = 'leaf-7' INTO $upstream` },
      ports.child,
      { receiver: { threshold } },
    );
    (document.modulesContent.$edgeAgent['properties.desired'] as { schemaVersion: string }).schemaVersion =
      schemaVersion;
    writeFileSync(childManifest, JSON.stringify(document));
  }

  function leaf(count: number): LeafDevice {
    const device = new LeafDevice(
      `HostName=hub.example.net;DeviceId=leaf-7;SharedAccessKey=${LEAF_KEY};GatewayHostName=localhost:${ports.child.mqtt}`,
      childCa,
      count,
    );
    leaves.push(device);
    return device;
  }

  const childLogs = (module: string) => child.cli(['logs', module]).stdout;

  before(async () => {
    ports.parent = { mqtt: await freePort(), https: await freePort() };
    ports.child = { mqtt: await freePort(), https: await freePort() };
    await parent.start();
    const posted = await parent.request(
      'POST',
      '/deployment',
      deployment(
        { recorder: nodeModule('upstream-recorder.js', [records]) },
        {
          fromLeaf: `FROM /messages/* WHERE $connectionDeviceId = 'leaf-7' INTO BrokeredEndpoint("/modules/recorder/inputs/in1")`,
        },
        ports.parent,
      ),
    );
    assert.equal(posted.status, 200, posted.body);
    const added = parent.cli(['identity', 'add', 'child-1', '--edge', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const { connectionString } = JSON.parse(added.stdout) as { connectionString: string };
    const leafAdded = parent.cli(['identity', 'add', 'leaf-7', '--parent', 'child-1', '--key', LEAF_KEY]);
    assert.equal(leafAdded.code, 0, leafAdded.stderr);

    child = childDaemon(parent, ports.parent.mqtt, connectionString);
    child.env.IOTEDGE_PARENT_HTTPS_PORT = String(ports.parent.https);
    await child.start();
    childCa = rootCaOf(child);
  });

  after(async () => {
    await Promise.all(leaves.map((device) => device.stop()));
    await cleanupDaemons(child, parent);
  });

  test("the parent's deployment starts the child's modules, and the parent sees them running", async () => {
    writeChildDeployment(25);
    const pushed = parent.cli(['deploy', '--device', 'child-1', childManifest]);
    assert.equal(pushed.code, 0, pushed.stderr);
    await eventually(
      async () => (childLogs('receiver').includes('reported') ? true : undefined),
      "the child's receiver module to start and report",
      60_000,
    );
    assert.match(childLogs('receiver'), /desired|connected/);
    const seen = await eventually(async () => {
      const status = childStatus(parent);
      return status.modules?.receiver?.runtimeStatus === 'running' && status.lastDesiredStatus?.code === 200
        ? status
        : undefined;
    }, "the parent to see the child's receiver running");
    assert.equal(seen.lastDesiredStatus?.code, 200);
    const local = child.cli(['deploy', '--status']);
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout + local.stderr, /upstream/, 'the child says its deployment came from upstream');
  });

  test("a second deployment's module desired property reaches the child's SDK module", async () => {
    writeChildDeployment(30);
    const pushed = parent.cli(['deploy', '--device', 'child-1', childManifest]);
    assert.equal(pushed.code, 0, pushed.stderr);
    await eventually(
      async () => (/desired \{[^\n]*"threshold":30/.test(childLogs('receiver')) ? true : undefined),
      'the receiver to get the new threshold',
      30_000,
    );
  });

  test('an invalid deployment from above is refused with the local code; the child keeps running', async () => {
    writeChildDeployment(31, '9.9');
    const pushed = parent.cli(['deploy', '--device', 'child-1', childManifest]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const refused = await eventually(async () => {
      const status = childStatus(parent);
      return status.lastDesiredStatus?.code === 412 ? status : undefined;
    }, 'the child to report 412 upstream');
    assert.match(refused.lastDesiredStatus?.description ?? '', /schemaVersion/);
    assert.equal(refused.modules?.receiver?.runtimeStatus, 'running');
    writeChildDeployment(30);
    assert.equal(parent.cli(['deploy', '--device', 'child-1', childManifest]).code, 0);
    await eventually(
      async () => (childStatus(parent).lastDesiredStatus?.code === 200 ? true : undefined),
      'the good deployment again',
    );
  });

  test('a leaf device registered on the parent connects to the child, also while the parent is away', async () => {
    const online = leaf(3);
    await online.said('sent 3', 30_000);
    await eventually(
      async () => (recorded(records).length >= 3 ? true : undefined),
      'the leaf messages at the parent',
    );
    await online.stop();

    await parent.signal('SIGTERM');
    await child.signal('SIGTERM');
    await child.start();
    // the cached deployment runs at once, without the parent
    await eventually(
      async () =>
        /running/.test(child.cli(['list']).stdout) && childLogs('receiver').includes('reported')
          ? true
          : undefined,
      'the cached deployment to run on the restarted child',
      60_000,
    );
    const offline = leaf(4);
    await offline.said('sent 4', 30_000);

    await parent.start();
    await eventually(
      async () => (recorded(records).length >= 7 ? true : undefined),
      'the messages the leaf sent while the parent was away',
      60_000,
    );
    // the agent restarted while the parent was away: the parent learns its new start time
    const local = JSON.parse(child.cli(['deploy', '--status']).stdout) as AgentReported;
    const restartedAt = local.systemModules?.edgeAgent?.lastStartTimeUtc;
    assert.ok(restartedAt, "the child's agent reports its start time");
    const converged = await eventually(
      async () => {
        const status = childStatus(parent);
        return status.systemModules?.edgeAgent?.lastStartTimeUtc === restartedAt ? status : undefined;
      },
      "the parent to see the restarted child's state",
      30_000,
    );
    assert.equal(converged.modules?.receiver?.runtimeStatus, 'running');
    assert.equal(converged.lastDesiredStatus?.code, 200);
  });
});
