import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, nodeModule } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import {
  childDaemon,
  cleanupDaemons,
  expectPingAnswered,
  expectReportedRunning,
  nestedDeployment as deployment,
  runningModules,
  upstreamOf,
  writeManifest,
} from '../helpers/nested.js';

/**
 * A child edge device whose edgeHub speaks AMQP upstream (`UpstreamProtocol: Amqp`), managed from its
 * parent as over MQTT: the parent's deployments reach it and its SDK module's desired properties
 * set at the parent reach the module as desired patches, all on the one AMQP connection.
 */
describe('nested edge over AMQP: a child managed from above', () => {
  const parent = new TestDaemon({}, [], 'localhost');
  let child: TestDaemon | undefined;
  const ports = { mqtt: 0, https: 0, amqp: 0 };

  /** The child's deployment, set at the parent: the receiver (with `threshold`) and `extra` modules. */
  const deployToChild = (threshold: number, extra: string[] = []) => {
    const document = deployment(
      {
        receiver: nodeModule('sdk-module.js', ['receiver']),
        ...Object.fromEntries(extra.map((name) => [name, nodeModule('sleeper.js')])),
      },
      {},
      0,
      'Amqp',
    ) as ReturnType<typeof deployment> & { modulesContent: Record<string, unknown> };
    document.modulesContent.receiver = { 'properties.desired': { threshold } };
    const deployed = parent.cli(['deploy', '--device', 'child-1', writeManifest(parent, document)]);
    assert.equal(deployed.code, 0, deployed.stderr);
  };
  const logs = () => child!.cli(['logs', 'receiver']).stdout;

  before(async () => {
    [ports.mqtt, ports.https, ports.amqp] = await Promise.all([freePort(), freePort(), freePort()]);
    await parent.start();
    const posted = await parent.request('POST', '/deployment', deployment({}, {}, ports));
    assert.equal(posted.status, 200, posted.body);
    const added = parent.cli(['identity', 'add', 'child-1', '--edge', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const { connectionString } = JSON.parse(added.stdout) as { connectionString: string };
    deployToChild(1);
    const started = childDaemon(parent, ports.mqtt, connectionString);
    started.env.IOTEDGE_PARENT_HTTPS_PORT = String(ports.https);
    started.env.IOTEDGE_PARENT_AMQP_PORT = String(ports.amqp);
    child = started;
    await started.start();
  });

  after(async () => {
    await cleanupDaemons(child, parent);
  });

  test('the upstream deployment asks for AMQP: the child switches to it and its module gets its desired properties', async () => {
    const running = child!;
    await eventually(
      async () => {
        const up = upstreamOf(running);
        return up?.connected && up.protocol === 'AMQP' ? true : undefined;
      },
      'the child on AMQP',
      30_000,
    );
    await eventually(
      async () => (/"threshold":1\b/.test(logs()) ? true : undefined),
      "the receiver's desired properties from upstream",
      30_000,
    );
  });

  test('a deployment and a desired change made at the parent reach the child over AMQP', async () => {
    const running = child!;
    const connected = upstreamOf(running);
    assert.equal(connected?.protocol, 'AMQP');
    deployToChild(2, ['extra']);
    await eventually(
      async () => (/^desired \{"threshold":2,/m.test(logs()) ? true : undefined),
      'the desired patch on the SDK module',
      30_000,
    );
    await eventually(
      async () => (runningModules(running).join() === 'extra,receiver' ? true : undefined),
      'the new deployment running on the child',
      30_000,
    );
    await expectReportedRunning(parent, 'child-1', 'extra');
    const up = upstreamOf(running);
    assert.equal(up?.protocol, 'AMQP', 'still on AMQP');
    assert.equal(up?.connected, true);
    assert.equal(up?.since, connected?.since, 'on the same AMQP connection, never lost meanwhile');
  });

  test("a direct method from the parent reaches the child's SDK module over AMQP", async () => {
    await expectPingAnswered(parent, 'child-1/receiver', { over: 'amqp' });
    assert.equal(upstreamOf(child!)?.protocol, 'AMQP');
  });
});
