import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, hubPorts, manifest, nodeModule } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import {
  childDaemon,
  cleanupDaemons,
  expectLeafReachedFromParent,
  expectPingAnswered,
  runningModules,
  writeManifest,
} from '../helpers/nested.js';

type Twin = { desired: Record<string, unknown>; reported: Record<string, unknown> };

/** The parent's twins file (`<homedir>/hub/twins.json`), as its hub saved it. */
function parentTwins(parent: TestDaemon): Record<string, Twin> {
  const file = path.join(parent.homedir, 'hub/twins.json');
  if (!existsSync(file)) return {};
  return (JSON.parse(readFileSync(file, 'utf8')) as { twins: Record<string, Twin> }).twins;
}

/**
 * Sets the desired properties of child-1's `$edgeAgent` and `$edgeHub` twins in the parent's twins
 * file (the parent is stopped), as a deployment to child-1 from above leaves them.
 */
function setChildDeployment(
  parent: TestDaemon,
  document: ReturnType<typeof manifest>,
  version: number,
): void {
  const file = path.join(parent.homedir, 'hub/twins.json');
  const saved = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { twins: Record<string, Twin>; notified?: unknown })
    : { twins: {} };
  for (const [id, content] of [
    ['child-1/$edgeAgent', document.modulesContent.$edgeAgent['properties.desired']],
    ['child-1/$edgeHub', document.modulesContent.$edgeHub['properties.desired']],
  ] as const) {
    saved.twins[id] = {
      desired: { ...content, $version: version },
      reported: saved.twins[id]?.reported ?? { $version: 1 },
    };
  }
  writeFileSync(file, JSON.stringify(saved));
}

/** A child deployment with process modules that sleep. */
const childDeployment = (modules: string[], restartPolicy = 'always') =>
  manifest(
    Object.fromEntries(modules.map((name) => [name, nodeModule('sleeper.js', [], { restartPolicy })])),
  );

describe('nested edge: a child edge device managed from above', () => {
  const parent = new TestDaemon({}, [], 'localhost');
  let child: TestDaemon;
  let parentPort = 0;

  const startParent = async () => {
    await parent.start();
  };

  before(async () => {
    parentPort = await freePort();
    await parent.start();
    const parentDeployment = manifest({});
    (
      parentDeployment.modulesContent.$edgeAgent['properties.desired'] as {
        systemModules: { edgeHub: { settings: { createOptions: string } } };
      }
    ).systemModules.edgeHub.settings.createOptions = hubPorts(parentPort, 0);
    const posted = await parent.request('POST', '/deployment', parentDeployment);
    assert.equal(posted.status, 200, posted.body);
    const added = parent.cli(['identity', 'add', 'child-1', '--edge', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const { connectionString } = JSON.parse(added.stdout) as { connectionString: string };
    await parent.signal('SIGTERM');
    setChildDeployment(parent, childDeployment(['alpha']), 2);
    await startParent();

    child = childDaemon(parent, parentPort, connectionString);
    await child.start();
  });

  after(async () => {
    await cleanupDaemons(child, parent);
  });

  test('the child deploys its $edgeAgent and $edgeHub desired properties from upstream and reports them up', async () => {
    await eventually(
      async () => (runningModules(child).join() === 'alpha' ? true : undefined),
      'alpha running on the child',
      30_000,
    );
    const status = child.cli(['deploy', '--status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stderr, /^Deployment source: upstream; edgeAgent=2; edgeHub=2$/m);
    assert.equal((JSON.parse(status.stdout) as { lastDesiredVersion: number }).lastDesiredVersion, 2);

    const reported = await eventually(
      async () => {
        const twin = parentTwins(parent)['child-1/$edgeAgent'];
        const modules = twin?.reported.modules as Record<string, { runtimeStatus: string }> | undefined;
        return modules?.alpha?.runtimeStatus === 'running' ? twin.reported : undefined;
      },
      "child-1/$edgeAgent's reported properties in the parent's twins",
      30_000,
    );
    assert.deepEqual(reported.lastDesiredStatus, { code: 200, description: '' });
    assert.equal(reported.lastDesiredVersion, 2);
    await eventually(
      async () => (parentTwins(parent)['child-1/$edgeHub']?.reported.lastDesiredStatus ? true : undefined),
      "child-1/$edgeHub's reported properties in the parent's twins",
    );
  });

  test("the parent's direct methods on child-1/$edgeAgent reach the child's agent", async () => {
    const call = async (method: string, payload: unknown) => {
      const run = await parent.cliAsync([
        'invoke',
        'child-1/$edgeAgent',
        method,
        '--payload',
        JSON.stringify(payload),
        '--connect-timeout',
        '20',
        '--json',
      ]);
      return { code: run.code, ...(JSON.parse(run.stdout || '{}') as { status: number; payload: unknown }) };
    };
    assert.deepEqual(await call('ping', null), { code: 0, status: 200, payload: null });
    const logs = await call('GetModuleLogs', {
      schemaVersion: '1.0',
      items: [{ id: '^alpha$', filter: { regex: '^started' } }],
    });
    assert.equal(logs.status, 200, JSON.stringify(logs.payload));
    const [entry] = logs.payload as { id: string; payload: string }[];
    assert.equal(entry!.id, 'alpha');
    assert.match(entry!.payload, /^started alpha pid=\d+ device=child-1 /);
    const bad = await call('RestartModule', { schemaVersion: '1.0' });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.payload, { message: 'id: expected a non-empty string' });
  });

  test('an invalid upstream deployment is reported up with its code and the previous one keeps running', async () => {
    await parent.signal('SIGTERM');
    setChildDeployment(parent, childDeployment(['beta'], 'sometimes'), 3);
    await startParent();
    const reported = await eventually(
      async () => {
        const twin = parentTwins(parent)['child-1/$edgeAgent'];
        return twin?.reported.lastDesiredVersion === 3 ? twin.reported : undefined;
      },
      'the rejection reported upstream',
      40_000,
    );
    const status = reported.lastDesiredStatus as { code: number; description: string };
    assert.equal(status.code, 400);
    assert.match(status.description, /modules\.beta\.restartPolicy: unknown value "sometimes"/);
    assert.deepEqual(runningModules(child), ['alpha']);
  });

  test('newest wins: a local deployment runs until upstream changes, not when the same desired comes again', async () => {
    const local = child.cli(['deploy', writeManifest(child, childDeployment(['gamma']))]);
    assert.equal(local.code, 0, local.stderr);
    await eventually(
      async () => (runningModules(child).join() === 'gamma' ? true : undefined),
      'gamma running',
    );
    assert.match(child.cli(['deploy', '--status']).stderr, /^Deployment source: local$/m);

    // the parent comes back with the same desired properties: the child reads them again, keeps gamma
    await parent.signal('SIGTERM');
    await startParent();
    await eventually(
      async () => {
        const modules = parentTwins(parent)['child-1/$edgeAgent']?.reported.modules as Record<
          string,
          unknown
        >;
        return modules?.gamma !== undefined && modules.alpha === undefined ? true : undefined;
      },
      'the local deployment reported upstream after the reconnection',
      40_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.deepEqual(runningModules(child), ['gamma']);

    // a change upstream replaces the local deployment
    await parent.signal('SIGTERM');
    setChildDeployment(parent, childDeployment(['delta']), 4);
    await startParent();
    await eventually(
      async () => (runningModules(child).join() === 'delta' ? true : undefined),
      'delta running',
      40_000,
    );
    assert.match(
      child.cli(['deploy', '--status']).stderr,
      /^Deployment source: upstream; edgeAgent=4; edgeHub=4$/m,
    );
  });

  test('a child that starts while its parent is away runs the cached upstream deployment at once', async () => {
    await parent.signal('SIGTERM');
    await child.signal('SIGTERM');
    await child.start();
    await eventually(
      async () => (runningModules(child).join() === 'delta' ? true : undefined),
      'delta running offline',
    );
    const status = child.cli(['deploy', '--status']);
    assert.match(status.stderr, /^Deployment source: upstream; edgeAgent=4; edgeHub=4$/m);
    const system = JSON.parse(child.cli(['system', 'status', '--json']).stdout) as {
      upstream: { connected: boolean };
    };
    assert.equal(system.upstream.connected, false);
    await startParent();
  });

  test("a child module's desired properties come from upstream, its reported go up, upstream's methods reach it", async () => {
    // the child's hub on a fixed port: the receiver keeps its gateway address across a child restart
    const childHubPort = await freePort();
    const withReceiver = (threshold: number) => {
      const document = manifest({ receiver: nodeModule('sdk-module.js', ['receiver']) }) as ReturnType<
        typeof manifest
      > & { modulesContent: Record<string, unknown> };
      (
        document.modulesContent.$edgeAgent['properties.desired'] as {
          systemModules: { edgeHub: { settings: { createOptions: string } } };
        }
      ).systemModules.edgeHub.settings.createOptions = hubPorts(childHubPort, 0);
      document.modulesContent.receiver = { 'properties.desired': { threshold } };
      return writeManifest(parent, document);
    };
    const deployed = parent.cli(['deploy', '--device', 'child-1', withReceiver(1)]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const logs = () => child.cli(['logs', 'receiver']).stdout;
    await eventually(
      async () => (/^reported$/m.test(logs()) ? true : undefined),
      'the receiver reported',
      60_000,
    );
    await eventually(
      async () => (/"threshold":1/.test(logs()) ? true : undefined),
      "the receiver's desired properties from upstream",
      30_000,
    );
    const reported = await eventually(
      async () => {
        const twin = parentTwins(parent)['child-1/receiver'];
        return twin?.reported.ready === true ? twin.reported : undefined;
      },
      "the receiver's reported properties in the parent's twins",
      30_000,
    );
    assert.equal(typeof reported.pid, 'number');

    // a change upstream while the module is connected reaches it as a desired patch
    const again = parent.cli(['deploy', '--device', 'child-1', withReceiver(2)]);
    assert.equal(again.code, 0, again.stderr);
    await eventually(
      async () => (/^desired \{"threshold":2,/m.test(logs()) ? true : undefined),
      'the desired patch on the SDK module',
      30_000,
    );

    // reported while the parent is away: acknowledged by the child (durably), sent up once it is back
    await parent.signal('SIGTERM');
    const restarted = child.cli(['restart', 'receiver']);
    assert.equal(restarted.code, 0, restarted.stderr);
    await eventually(
      async () => ((logs().match(/^reported$/gm) ?? []).length >= 2 ? true : undefined),
      'the restarted receiver reported again while the parent was away',
      30_000,
    );
    assert.equal(parentTwins(parent)['child-1/receiver']?.reported.pid, reported.pid);
    // and the child restarts before the parent is back: what it acknowledged is on its disk
    await child.signal('SIGTERM');
    await child.start();
    await eventually(
      async () => ((logs().match(/^reported$/gm) ?? []).length >= 3 ? true : undefined),
      'the receiver reported again after the child restarted',
      30_000,
    );
    await startParent();
    await eventually(
      async () => {
        const pid = parentTwins(parent)['child-1/receiver']?.reported.pid;
        return typeof pid === 'number' && pid !== reported.pid ? true : undefined;
      },
      "the receiver's offline report at the parent",
      30_000,
    );

    await expectPingAnswered(parent, 'child-1/receiver', { x: 1 });
  });

  test('cloud-to-device messages and methods from upstream reach a leaf device below the child', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const onParent = parent.cli(['identity', 'add', 'sensor7', '--parent', 'child-1', '--key', key]);
    assert.equal(onParent.code, 0, onParent.stderr);
    const onChild = child.cli(['identity', 'add', 'sensor7', '--key', key, '--json']);
    assert.equal(onChild.code, 0, onChild.stderr);
    const { connectionString } = JSON.parse(onChild.stdout) as { connectionString: string };
    await expectLeafReachedFromParent(parent, child, 'sensor7', connectionString);
  });
});
