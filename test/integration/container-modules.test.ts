import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { hostMountOf } from '../../src/checks/container/host-mounts.js';
import { EMBEDDED_HUB_PORTS, edgeHubHostPortsCheck } from '../../src/checks/container/host-ports.js';
import {
  edgeAgentStorageMountedCheck,
  edgeHubStorageMountedCheck,
} from '../../src/checks/container/storage.js';
import type { DockerEngine } from '../../src/runtime/modules/docker/docker-engine.js';
import type { CheckResult } from '../../src/checks/types.js';
import {
  containerExists,
  createIdleContainer,
  removeContainer,
  sharedDiagnosticsImage,
  testEngine,
} from '../helpers/docker.js';
import { testContext, testSettings } from '../helpers/check-context.js';
import { closedPort, listenTracked } from '../helpers/tls-servers.js';

/*
 * edgeAgent / edgeHub are fixed container names: this file owns them while it runs, and refuses to touch
 * containers of those names that it did not create.
 */
const { engine: found, skip: noEngine } = await testEngine();
const engine = found as DockerEngine;
const preexisting = found
  ? (await containerExists(found, 'edgeAgent')) || (await containerExists(found, 'edgeHub'))
  : false;
const skip =
  noEngine || (preexisting ? 'containers named edgeAgent or edgeHub already exist on this engine' : false);

let image: string;
let dir: string;

before(async () => {
  if (skip) return;
  image = await sharedDiagnosticsImage(engine);
  dir = await mkdtemp(join(tmpdir(), 'iotedge-container-modules-'));
});

after(async () => {
  if (skip) return;
  await removeContainer(engine, 'edgeAgent');
  await removeContainer(engine, 'edgeHub');
  if (dir) await rm(dir, { recursive: true, force: true });
});

const message = (result: CheckResult) => ('message' in result ? result.message : '');

function context(homedir = '/var/lib/iotedge') {
  return testContext({
    facts: {
      settings: testSettings({
        homedir,
        moby_runtime: { uri: engine.uri, network: 'host' },
        // Nothing answers here: the embedded hub is not running in these tests.
        connect: {
          management_uri: `unix://${dir}/absent-mgmt.sock`,
          workload_uri: 'unix:///absent/workload.sock',
        },
      }),
      docker: engine,
    },
    signal: AbortSignal.timeout(30_000),
  });
}

async function withContainer(
  name: string,
  options: Parameters<typeof createIdleContainer>[3],
  body: () => Promise<void>,
): Promise<void> {
  await createIdleContainer(engine, name, image, options);
  try {
    await body();
  } finally {
    await removeContainer(engine, name);
  }
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

test('storage, no edgeAgent container: a homedir on a persistent filesystem is ok', { skip }, async (t) => {
  const homedir = join(repoRoot, 'no-such-homedir', 'iotedge');
  const mount = (await hostMountOf(homedir)).mount;
  if (mount?.fsType === 'tmpfs')
    return t.skip('this checkout lives on tmpfs: no persistent filesystem to test with');
  const result = await edgeAgentStorageMountedCheck.run(context(homedir));
  assert.equal(result.kind, 'ok', message(result));
  assert.equal(result.additionalInfo?.case, 'embedded');
  assert.equal(result.additionalInfo?.mount_point, mount?.mountPoint);
});

test('storage, no edgeHub container: a homedir on tmpfs warns, naming the mount', { skip }, async (t) => {
  if ((await hostMountOf('/dev/shm')).mount?.fsType !== 'tmpfs')
    return t.skip('/dev/shm is not a tmpfs here');
  const homedir = '/dev/shm/iotedge-test-homedir/not-created';
  const result = await edgeHubStorageMountedCheck.run(context(homedir));
  assert.equal(result.kind, 'warning');
  assert.match(
    message(result),
    /Edge Hub's storage directory \/dev\/shm\/iotedge-test-homedir\/not-created .* tmpfs filesystem mounted at \/dev\/shm/,
  );
  assert.equal(result.additionalInfo?.case, 'embedded');
});

test('storage, edgeAgent container without mounts: warns about /tmp/edgeAgent', { skip }, async () => {
  await withContainer('edgeAgent', {}, async () => {
    const result = await edgeAgentStorageMountedCheck.run(context());
    assert.equal(result.kind, 'warning');
    assert.ok(
      message(result).startsWith(
        'The edgeAgent module is not configured to persist its /tmp/edgeAgent directory on the host filesystem.',
      ),
      message(result),
    );
    assert.equal(result.additionalInfo?.case, 'container');
  });
});

test(
  'storage, edgeAgent container with StorageFolder (any case) under a bind mount: ok',
  { skip },
  async () => {
    await withContainer(
      'edgeAgent',
      { env: ['storageFOLDER=/data/store'], binds: [`${dir}:/data`] },
      async () => {
        const result = await edgeAgentStorageMountedCheck.run(context());
        assert.equal(result.kind, 'ok', message(result));
        assert.equal(result.additionalInfo?.storage_directory, '/data/store/edgeAgent');
        assert.deepEqual(result.additionalInfo?.container_directories, ['/data']);
      },
    );
  },
);

test('storage, edgeHub container with a declared volume over /tmp: ok', { skip }, async () => {
  await withContainer('edgeHub', { volumes: ['/tmp'] }, async () => {
    const result = await edgeHubStorageMountedCheck.run(context());
    assert.equal(result.kind, 'ok', message(result));
    assert.equal(result.additionalInfo?.storage_directory, '/tmp/edgeHub');
  });
});

test('edgehub-host-ports: a port binding of edgeHub that another process holds fails', { skip }, async () => {
  const holder = await listenTracked(createServer());
  try {
    const portBindings = { '8883/tcp': [{ HostIp: '', HostPort: String(holder.port) }] };
    await withContainer('edgeHub', { portBindings }, async () => {
      const result = await edgeHubHostPortsCheck.run(context());
      assert.equal(result.kind, 'failed');
      assert.equal(
        message(result),
        `Edge Hub cannot bind to host port ${holder.port}: it is already in use by another process.`,
      );
      assert.deepEqual(result.additionalInfo?.ports_in_use, [holder.port]);
    });
  } finally {
    await holder.close();
  }
});

test('edgehub-host-ports: free port bindings are ok', { skip }, async () => {
  const port = await closedPort();
  const portBindings = { '5671/tcp': [{ HostIp: '', HostPort: String(port) }] };
  await withContainer('edgeHub', { portBindings }, async () => {
    const result = await edgeHubHostPortsCheck.run(context());
    assert.equal(result.kind, 'ok', message(result));
    assert.deepEqual(result.additionalInfo, { case: 'container', ports: [port] });
  });
});

test('edgehub-host-ports: a running edgeHub container is ok without binding anything', { skip }, async () => {
  await engine.client.createContainer({
    name: 'edgeHub',
    Image: image,
    Entrypoint: [process.execPath, '-e', 'setTimeout(() => {}, 60_000)'],
    HostConfig: { NetworkMode: 'none' },
  });
  try {
    await engine.client.getContainer('edgeHub').start();
    const result = await edgeHubHostPortsCheck.run(context());
    assert.equal(result.kind, 'ok', message(result));
    assert.deepEqual(result.additionalInfo, { case: 'container', container_running: true });
  } finally {
    await removeContainer(engine, 'edgeHub');
  }
});

test(
  'edgehub-host-ports: without an edgeHub container the embedded hub ports are tried',
  { skip },
  async () => {
    const result = await edgeHubHostPortsCheck.run(context());
    assert.deepEqual(result.additionalInfo?.ports, [...EMBEDDED_HUB_PORTS]);
    assert.equal(result.additionalInfo?.case, 'embedded');
    // Another process on this machine may hold one of them; the check must then say which.
    if (result.kind === 'failed')
      assert.match(message(result), /^Edge Hub cannot bind to host ports? (8883|5671|443)/);
    else assert.equal(result.kind, 'ok');
  },
);
