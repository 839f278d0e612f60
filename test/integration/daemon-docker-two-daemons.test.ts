import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestDaemon, eventually, manifest } from '../helpers/daemon.js';
import { dockerDaemonFixture, dockerDaemonSkip, shellModule } from '../helpers/docker-daemon.js';
import { DOCKER_URI, uniqueName } from '../helpers/docker.js';

// Two daemons, each with its own homedir, on one Docker engine: each adopts, stops and removes
// only the containers it made, whatever the other deploys or finds at its start.
describe('two iotedged on one container engine', { skip: dockerDaemonSkip }, () => {
  const { daemon: first, image, name: firstName, engine } = dockerDaemonFixture('two-daemons', 'first');
  const second = new TestDaemon({}, ['moby_runtime:', `  uri: ${DOCKER_URI}`, '  network: host']);
  const secondName = uniqueName('second');

  before(async () => {
    await second.start();
  });
  after(async () => {
    await second.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await second.cleanup();
    await engine.client
      .getContainer(secondName)
      .remove({ force: true })
      .catch(() => undefined);
  });

  const running = async (name: string) => (await engine.client.getContainer(name).inspect()).State.Running;
  const listed = async (daemon: TestDaemon) =>
    (await daemon.json<{ modules: { name: string }[] }>('GET', '/modules')).modules.map((m) => m.name);

  test("neither daemon's removals or starts touch the other's containers", async () => {
    for (const [daemon, name] of [
      [first, firstName],
      [second, secondName],
    ] as const) {
      const result = await daemon.request(
        'POST',
        '/deployment',
        manifest({ [name]: shellModule(image, 'sleep 1000') }),
      );
      assert.equal(result.status, 200, result.body);
      await eventually(async () => ((await running(name)) ? true : undefined), `${name} running`);
    }
    const firstContainer = await engine.client.getContainer(firstName).inspect();
    assert.equal(firstContainer.Config.Labels['net.azure-devices.edge.homedir'], first.homedir);
    assert.ok(!(await listed(second)).includes(firstName), 'the second daemon lists only its own');
    assert.ok(!(await listed(first)).includes(secondName), 'the first daemon lists only its own');

    // the second daemon removes its deployment: its container goes, the first's stays
    assert.equal((await second.request('POST', '/deployment', manifest({}))).status, 200);
    await eventually(
      async () =>
        await engine.client
          .getContainer(secondName)
          .inspect()
          .then(
            () => undefined,
            () => true,
          ),
      'the second daemon’s container removed',
    );
    // the second daemon starts again with an empty deployment: nothing of the first's is adopted or removed
    await second.signal('SIGTERM');
    await second.start();
    await eventually(
      async () => ((await listed(second)).every((name) => name.startsWith('edge')) ? true : undefined),
      'the second daemon running with no module',
    );
    // the agent acts at start and then on its own schedule; give it a few passes, then look
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await engine.client.getContainer(firstName).inspect();
    assert.equal(after.Id, firstContainer.Id, 'the first daemon’s container is the same one');
    assert.equal(after.State.Running, true);
    assert.equal(after.State.StartedAt, firstContainer.State.StartedAt, 'and never restarted');
    // an attempt of the second daemon to act on it by name is refused
    const restart = second.cli(['restart', firstName]);
    assert.notEqual(restart.code, 0);
    assert.equal(
      (await engine.client.getContainer(firstName).inspect()).State.StartedAt,
      firstContainer.State.StartedAt,
    );
  });
});
