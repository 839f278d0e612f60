import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { TestDaemon, eventually, manifest, nodeModule } from '../helpers/daemon.js';
import { DOCKER_URI, testEngine, uniqueName } from '../helpers/docker.js';
import { holdTestLock } from '../helpers/test-lock.js';

const { skip } = await testEngine();

interface Status {
  lastDesiredStatus: { code: number; description: string };
  modules: Record<string, { runtimeStatus: string; statusDescription: string; restartCount: number }>;
}

/** A "registry" on loopback that accepts connections and never answers: a pull that hangs. */
async function silentRegistry() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    connections: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const dockerModule = (image: string, imagePullPolicy: string) => ({
  type: 'docker',
  status: 'running',
  restartPolicy: 'always',
  imagePullPolicy,
  settings: { image, createOptions: '{}' },
});

describe('image pulls and the agent', { skip }, () => {
  const daemon = new TestDaemon({}, ['moby_runtime:', `  uri: ${DOCKER_URI}`, '  network: host']);
  const status = () => daemon.json<Status>('GET', '/deployment/status');

  let release: (() => Promise<void>) | undefined;

  before(async () => {
    release = await holdTestLock('docker-agent');
    await daemon.start();
  });
  after(async () => {
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    await daemon.cleanup();
    await release?.();
  });

  test('a missing image under imagePullPolicy never fails the module with a clear description', async () => {
    const image = `${uniqueName('iotedge-ts-test-absent')}:1`;
    const result = await daemon.request(
      'POST',
      '/deployment',
      manifest({ absent: dockerModule(image, 'never') }),
    );
    assert.equal(result.status, 500, result.body);
    const reported = await status();
    const expected = `module absent: image ${image} is not present and imagePullPolicy is never`;
    assert.equal(reported.lastDesiredStatus.description, expected);
    assert.equal(reported.modules.absent?.runtimeStatus, 'failed');
    assert.equal(reported.modules.absent?.statusDescription, expected);
    const list = daemon.cli(['list']);
    assert.match(list.stdout, /absent\s+failed\s/);
  });

  test('a hanging pull never holds up the supervision of other modules', async () => {
    const registry = await silentRegistry();
    try {
      const image = `${registry.address}/iotedge-test/slow:1`;
      const deployment = daemon.request(
        'POST',
        '/deployment',
        manifest({ slow: dockerModule(image, 'on-create'), crashing: nodeModule('exiter.js', ['3', '50']) }),
      );
      await eventually(async () => (registry.connections() > 0 ? true : undefined), 'the engine to dial');
      // while the pull hangs, the crashing module is restarted again and again, and the API answers
      const during = await eventually(async () => {
        const reported = await status();
        return (reported.modules.crashing?.restartCount ?? 0) >= 3 ? reported : undefined;
      }, 'restarts of the crashing module during the pull');
      assert.equal(during.modules.slow?.runtimeStatus, 'unknown');
      assert.equal(during.modules.slow?.statusDescription, `pulling image ${image}`);
      assert.match(daemon.cli(['list']).stdout, /crashing\s/);

      await registry.close();
      const result = await deployment;
      assert.equal(result.status, 500, result.body);
      const after = await status();
      assert.match(after.modules.slow?.statusDescription ?? '', /^module slow: pulling .* failed: /);
      assert.equal(after.modules.slow?.runtimeStatus, 'failed');
    } finally {
      await registry.close().catch(() => undefined);
    }
  });
});
