import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BUSYBOX_IMAGE, busyboxMissing, ensureBusyboxImage } from '../helpers/busybox-image.js';
import { TestDaemon, eventually, manifest, nodeModule } from '../helpers/daemon.js';
import { PrivateDockerd } from '../helpers/private-dockerd.js';

const skip = PrivateDockerd.missing() || busyboxMissing();

interface Status {
  lastDesiredStatus: { code: number; description: string };
  modules: Record<string, { runtimeStatus: string }>;
}

describe('the container engine goes away and comes back', { skip }, () => {
  const engine = new PrivateDockerd();
  let daemon: TestDaemon;
  const status = () => daemon.json<Status>('GET', '/deployment/status');
  const statusOf = async (module: string) => (await status()).modules[module]?.runtimeStatus;

  before(async () => {
    const started = await engine.start();
    await ensureBusyboxImage(started, BUSYBOX_IMAGE);
    daemon = new TestDaemon({}, ['moby_runtime:', `  uri: ${engine.uri}`, '  network: host']);
    await daemon.start();
  });
  after(async () => {
    if (process.env.DEBUG_DAEMON) console.log(daemon?.output, engine.output);
    await daemon?.cleanup();
    await engine.cleanup();
  });

  test('the agent reports 500 and serves the API while dockerd is down, and reconciles when it is back', async () => {
    const result = await daemon.request(
      'POST',
      '/deployment',
      manifest({
        boxed: {
          type: 'docker',
          status: 'running',
          restartPolicy: 'always',
          imagePullPolicy: 'never',
          settings: {
            image: BUSYBOX_IMAGE,
            createOptions: JSON.stringify({ Cmd: ['sleep', '1000'], StopTimeout: 1 }),
          },
        },
        local: nodeModule('sleeper.js'),
      }),
    );
    assert.equal(result.status, 200, result.body);
    await eventually(
      async () => ((await statusOf('boxed')) === 'running' ? true : undefined),
      'boxed running',
    );

    await engine.stop();
    const down = await eventually(async () => {
      const reported = await status();
      // on its way down the engine may first fail a restart; then it cannot be reached at all
      return reported.lastDesiredStatus.description.startsWith('cannot reach') ? reported : undefined;
    }, 'the agent to notice the engine is gone');
    assert.equal(down.lastDesiredStatus.code, 500);
    assert.match(down.lastDesiredStatus.description, /^cannot reach docker runtime: .*\(modules boxed\)$/);
    assert.equal(down.modules.local?.runtimeStatus, 'running', 'process modules are still supervised');
    const list = daemon.cli(['list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /local\s+running/);

    // dockerd stopped the container on its way down; back up, the agent starts it again
    await engine.start();
    await eventually(
      async () => {
        const reported = await status();
        return reported.lastDesiredStatus.code === 200 && reported.modules.boxed?.runtimeStatus === 'running'
          ? true
          : undefined;
      },
      'the module running again',
      30_000,
    );
    const logs = daemon.cli(['logs', 'boxed']);
    assert.equal(logs.code, 0, logs.stderr);
  });
});
