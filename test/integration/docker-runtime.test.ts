import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { DockerRuntime } from '../../src/runtime/modules/docker/docker-runtime.js';
import type { LogLine, ModuleEvent, ModuleSpec, ModuleState } from '../../src/runtime/modules/types.js';
import { workloadDirectory, workloadSocket } from '../../src/runtime/workload/socket-layout.js';
import { BUSYBOX_IMAGE, busyboxMissing, ensureBusyboxImage } from '../helpers/busybox-image.js';
import { DOCKER_URI, removeContainer, removeImage, testEngine, uniqueName } from '../helpers/docker.js';

const { engine, skip: noEngine } = await testEngine();
const skip = noEngine || busyboxMissing();

let homedir = '';
let runtime: DockerRuntime;
let createdImage = false;
const created: string[] = [];
const events: ModuleEvent[] = [];
/** A distinct owner, so this file never sees containers of a real agent on the same engine. */
const owner = uniqueName('iotedge-ts-test-owner');

before(async () => {
  if (skip) return;
  homedir = await mkdtemp(join(tmpdir(), 'iotedge-docker-runtime-'));
  createdImage = await ensureBusyboxImage(engine!);
  runtime = new DockerRuntime({ uri: DOCKER_URI, network: 'host', homedir, allowElevated: false, owner });
  runtime.onEvent((event) => events.push(event));
});

after(async () => {
  if (skip) return;
  await runtime.close();
  for (const name of created) await removeContainer(engine!, name);
  if (createdImage) await removeImage(engine!, BUSYBOX_IMAGE);
  await rm(homedir, { recursive: true, force: true });
});

const spec = (name: string, createOptions: Record<string, unknown>, image = BUSYBOX_IMAGE): ModuleSpec => ({
  name,
  type: 'docker',
  status: 'running',
  restartPolicy: 'never',
  imagePullPolicy: 'never',
  startupOrder: 0,
  version: '1.0',
  env: {},
  settings: { image, createOptions },
  configHash: `hash-of-${name}`,
});

const shell = (script: string, extra: Record<string, unknown> = {}) => ({
  Cmd: ['/bin/sh', '-c', script],
  ...extra,
});

async function createModule(
  name: string,
  createOptions: Record<string, unknown>,
  env: Record<string, string> = {},
) {
  created.push(name);
  await runtime.create(spec(name, createOptions), { IOTEDGE_MODULEID: name, ...env });
}

const stateOf = async (name: string): Promise<ModuleState | undefined> =>
  (await runtime.list()).find((state) => state.name === name);

/** Polls until `check` returns a value (bounded wait, not a speed assertion). */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function collect(iterable: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of iterable) lines.push(line);
  return lines;
}

test('create + start: running in list, merged createOptions on the container, logs', { skip }, async () => {
  const name = uniqueName('iotedge-test-run');
  await createModule(
    name,
    shell('echo one; echo two >&2; sleep 0.5; echo three; exec sleep 300', {
      Env: ['USER_VAR=user', 'IOTEDGE_MODULEID=overridden-by-runtime'],
      Labels: { mine: 'yes', 'net.azure-devices.edge.owner': 'impostor' },
      HostConfig: { Privileged: true, CapAdd: ['NET_ADMIN'] },
    }),
  );
  const before = await stateOf(name);
  assert.equal(before?.status, 'stopped');
  assert.equal(before?.startTime, undefined);

  const inspected = await engine!.client.getContainer(name).inspect();
  assert.ok(inspected.Config.Env.includes('USER_VAR=user'));
  assert.ok(inspected.Config.Env.includes(`IOTEDGE_MODULEID=${name}`));
  assert.ok(!inspected.Config.Env.includes('IOTEDGE_MODULEID=overridden-by-runtime'));
  assert.equal(inspected.Config.Labels['mine'], 'yes');
  assert.equal(inspected.Config.Labels['net.azure-devices.edge.owner'], owner);
  assert.equal(inspected.Config.Labels['net.azure-devices.edge.original-image'], BUSYBOX_IMAGE);
  assert.equal(inspected.Config.Labels['net.azure-devices.edge.config-hash'], `hash-of-${name}`);
  assert.equal(inspected.HostConfig.NetworkMode, 'host');
  assert.equal(inspected.HostConfig.Privileged, false);
  assert.equal(inspected.HostConfig.CapAdd, null);
  assert.deepEqual(inspected.HostConfig.CapDrop, ['CHOWN', 'SETUID']);
  assert.equal(inspected.HostConfig.Binds, null, 'no workload socket exists: no bind');

  const startedAt = Date.now();
  await runtime.start(name);
  const state = await stateOf(name);
  assert.equal(state?.status, 'running');
  assert.equal(state?.type, 'docker');
  assert.equal(state?.image, BUSYBOX_IMAGE);
  assert.equal(state?.configHash, `hash-of-${name}`);
  assert.ok((state?.pid ?? 0) > 0);
  assert.ok(state?.startTime instanceof Date);
  assert.equal(state?.exitTime, undefined);

  const all = await eventually('three log lines', async () => {
    const lines = await collect(runtime.logs(name, {}));
    return lines.length >= 3 ? lines : undefined;
  });
  // stdout and stderr are copied separately by the engine: order is only kept within a stream
  const texts = (stream: string) => all.filter((line) => line.stream === stream).map((line) => line.text);
  assert.deepEqual(texts('stdout'), ['one', 'three']);
  assert.deepEqual(texts('stderr'), ['two']);
  assert.equal(all.length, 3);
  for (const line of all) {
    // timestamps come from the engine: not before the start request (1 s of clock granularity allowed)
    assert.ok(line.time.getTime() >= startedAt - 1000, `${line.time.toISOString()} is a plausible time`);
  }
  const tail = await collect(runtime.logs(name, { tail: 1 }));
  assert.deepEqual(
    tail.map((line) => line.text),
    ['three'],
  );
  const future = Math.ceil(Date.now() / 1000) + 3600;
  assert.deepEqual(await collect(runtime.logs(name, { since: future })), []);
  const past = Math.floor(startedAt / 1000) - 3600;
  assert.deepEqual(await collect(runtime.logs(name, { until: past })), []);
  // tail applies after the window: the engine alone would tail first
  const windowed = await collect(runtime.logs(name, { since: past, tail: 2 }));
  assert.deepEqual(windowed.length, 2);
  assert.equal(windowed[1].text, 'three', 'three was written half a second after the others');

  const controller = new AbortController();
  const followed: string[] = [];
  for await (const line of runtime.logs(name, { follow: true }, controller.signal)) {
    followed.push(line.text);
    if (followed.length === 3) controller.abort();
  }
  assert.deepEqual(followed.sort(), ['one', 'three', 'two']);
});

test('exit codes: 0 is stopped, non-zero is failed; the exit event arrives', { skip }, async () => {
  const ok = uniqueName('iotedge-test-exit0');
  const bad = uniqueName('iotedge-test-exit3');
  await createModule(ok, shell('exit 0'));
  await createModule(bad, shell('exit 3'));
  await runtime.start(ok);
  await runtime.start(bad);
  await eventually('exit events', async () =>
    events.some((e) => e.name === ok && e.kind === 'exited') &&
    events.some((e) => e.name === bad && e.kind === 'exited')
      ? true
      : undefined,
  );
  assert.ok(events.some((e) => e.name === bad && e.kind === 'started'));
  const okState = await stateOf(ok);
  assert.equal(okState?.status, 'stopped');
  assert.equal(okState?.exitCode, 0);
  const badState = await stateOf(bad);
  assert.equal(badState?.status, 'failed');
  assert.equal(badState?.exitCode, 3);
  assert.ok(badState?.exitTime instanceof Date);
  // no order between the two: for a container that exits at once Docker may record StartedAt after FinishedAt
  assert.ok(badState.startTime instanceof Date);
  assert.equal(badState.stopRequested, false);
  assert.equal(badState.pid, undefined);
});

test('stop marks the stop as requested; remove deletes the container', { skip }, async () => {
  const name = uniqueName('iotedge-test-stop');
  await createModule(name, shell("trap 'exit 0' TERM; sleep 300 & wait"));
  await runtime.start(name);
  await runtime.stop(name, 10_000);
  const state = await stateOf(name);
  assert.equal(state?.status, 'stopped');
  assert.equal(state?.exitCode, 0);
  assert.equal(state?.stopRequested, true);
  await runtime.start(name);
  assert.equal((await stateOf(name))?.stopRequested, false);
  await runtime.remove(name);
  assert.equal(await stateOf(name), undefined);
  await assert.rejects(runtime.remove(name), { name: 'ModuleNotFoundError' });
  await assert.rejects(runtime.start(name), { name: 'ModuleNotFoundError' });
});

test('containers without our owner label are not ours', { skip }, async () => {
  const name = uniqueName('iotedge-test-foreign');
  created.push(name);
  await engine!.client.createContainer({
    name,
    Image: BUSYBOX_IMAGE,
    Cmd: ['true'],
    HostConfig: { NetworkMode: 'host' },
  });
  assert.equal(await stateOf(name), undefined);
  await assert.rejects(runtime.remove(name), /is not a module of this runtime/);
  assert.ok(await engine!.client.getContainer(name).inspect());
});

test('imagePullPolicy never with a missing image: a clear error, no container', { skip }, async () => {
  const name = uniqueName('iotedge-test-noimage');
  const image = `${uniqueName('iotedge-ts-test-missing')}:1`;
  created.push(name);
  await assert.rejects(runtime.create(spec(name, {}, image), {}), {
    message: `module ${name}: image ${image} is not present and imagePullPolicy is never`,
  });
  assert.equal(await stateOf(name), undefined);
});

test('a Docker HEALTHCHECK that fails makes the module unhealthy', { skip }, async () => {
  const name = uniqueName('iotedge-test-health');
  await createModule(
    name,
    shell('sleep 1; touch /tmp/sick; exec sleep 300', {
      Healthcheck: {
        Test: ['CMD', '/bin/sh', '-c', 'test ! -e /tmp/sick'],
        Interval: 200_000_000,
        Timeout: 2_000_000_000,
        Retries: 1,
      },
    }),
  );
  await runtime.start(name);
  const state = await eventually('unhealthy', async () => {
    const current = await stateOf(name);
    return current?.status === 'unhealthy' ? current : undefined;
  });
  assert.match(state.statusDescription ?? '', /unhealthy/);
  await eventually('health event', async () =>
    events.some((e) => e.name === name && e.kind === 'health') ? true : undefined,
  );
});

test("the module's workload directory is bound when it exists", { skip }, async () => {
  const name = uniqueName('iotedge-test-sock');
  await mkdir(workloadDirectory(homedir, name), { recursive: true });
  const socket = workloadSocket(homedir, name);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  try {
    await createModule(name, shell('test -S /var/run/iotedge/workload.sock'));
    const inspected = await engine!.client.getContainer(name).inspect();
    assert.deepEqual(inspected.HostConfig.Binds, [`${workloadDirectory(homedir, name)}:/var/run/iotedge`]);
    await runtime.start(name);
    const state = await eventually('exit', async () => {
      const current = await stateOf(name);
      return current?.exitTime ? current : undefined;
    });
    assert.equal(state.exitCode, 0, 'the socket is visible inside the container');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('an engine that does not answer: every call rejects naming the URI', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'iotedge-no-engine-'));
  const uri = `unix://${join(dir, 'docker.sock')}`;
  const down = new DockerRuntime({ uri, network: 'host', homedir: dir, allowElevated: false });
  try {
    await assert.rejects(
      down.list(),
      (error: Error) => error.message.includes(uri) && !error.message.includes('    at '),
    );
    await assert.rejects(down.start('x'), (error: Error) => error.message.includes(uri));
    await assert.rejects(collect(down.logs('x', {})), (error: Error) => error.message.includes(uri));
  } finally {
    await down.close();
    await rm(dir, { recursive: true, force: true });
  }
});
