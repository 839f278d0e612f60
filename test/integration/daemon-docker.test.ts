import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventually, manifest, nodeModule } from '../helpers/daemon.js';
import { dockerDaemonFixture, dockerDaemonSkip, shellModule } from '../helpers/docker-daemon.js';

interface Details {
  name: string;
  config: { settings: Record<string, unknown> };
  status: { runtimeStatus: { status: string } };
}

describe('iotedged with docker modules beside process modules', { skip: dockerDaemonSkip }, () => {
  const { daemon, image, name, engine } = dockerDaemonFixture('daemon', 'boxed');

  const details = async (module: string) =>
    (await daemon.json<{ modules: Details[] }>('GET', '/modules')).modules.find((m) => m.name === module);

  test('a docker module runs, shows its image in list, logs and restarts through the CLI', async () => {
    const result = await daemon.request(
      'POST',
      '/deployment',
      manifest({
        [name]: shellModule(image, 'echo hello from $IOTEDGE_MODULEID; sleep 1000'),
        local: nodeModule('sleeper.js'),
      }),
    );
    assert.equal(result.status, 200, result.body);
    await eventually(
      async () => ((await details(name))?.status.runtimeStatus.status === 'running' ? true : undefined),
      'container running',
    );
    assert.equal((await details('local'))?.status.runtimeStatus.status, 'running');

    const list = daemon.cli(['list']);
    assert.match(
      list.stdout,
      new RegExp(`${name}\\s+running\\s+Up .*${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    await eventually(
      async () => (daemon.cli(['logs', name]).stdout.includes(`hello from ${name}`) ? true : undefined),
      'container logs',
    );

    const inspected = await engine!.client.getContainer(name).inspect();
    assert.equal(
      inspected.Config.Labels['net.azure-devices.edge.owner'],
      'Microsoft.Azure.Devices.Edge.Agent',
    );
    assert.ok(inspected.Config.Env.includes(`IOTEDGE_MODULEID=${name}`));
    const startedAt = inspected.State.StartedAt;

    const restart = daemon.cli(['restart', name]);
    assert.equal(restart.code, 0, restart.stderr);
    await eventually(async () => {
      const again = await engine!.client.getContainer(name).inspect();
      return again.State.Running && again.State.StartedAt !== startedAt ? true : undefined;
    }, 'a restarted container');
  });

  test('a container removed behind the agent’s back is recreated', async () => {
    await engine!.client.getContainer(name).remove({ force: true });
    await eventually(async () => {
      const again = await engine!.client
        .getContainer(name)
        .inspect()
        .catch(() => undefined);
      return again?.State.Running ? true : undefined;
    }, 'the container recreated');
  });

  test('removing the module from the deployment removes its container', async () => {
    const result = await daemon.request('POST', '/deployment', manifest({ local: nodeModule('sleeper.js') }));
    assert.equal(result.status, 200, result.body);
    const gone = await engine!.client
      .getContainer(name)
      .inspect()
      .catch((error: { statusCode?: number }) => error.statusCode);
    assert.equal(gone, 404);
  });
});
