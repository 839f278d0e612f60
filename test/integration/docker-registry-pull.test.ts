import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { DockerRuntime } from '../../src/runtime/modules/docker/docker-runtime.js';
import type { RegistryCredential } from '../../src/runtime/modules/docker/image-ref.js';
import type { ModuleSpec } from '../../src/runtime/modules/types.js';
import { busyboxMissing, ensureBusyboxImage } from '../helpers/busybox-image.js';
import { DOCKER_URI, removeContainer, removeImage, testEngine, uniqueName } from '../helpers/docker.js';
import { registryMissing, startLocalRegistry, type LocalRegistry } from '../helpers/local-registry.js';

const { engine, skip: noEngine } = await testEngine();
const skip = noEngine || busyboxMissing() || registryMissing();

/** Its own source image: the docker-runtime test file removes the shared one when it ends. */
const SOURCE_IMAGE = 'iotedge-ts-test-busybox-pull:1';
const USER = 'edge';
const PASSWORD = 'pull-test-S3cret';

let registry: LocalRegistry | undefined;
let homedir = '';
let pushed = '';
let createdSource = false;
let credentials: RegistryCredential[] = [];
const logged: string[] = [];
const created: string[] = [];
let runtime: DockerRuntime;

before(async () => {
  if (skip) return;
  homedir = await mkdtemp(join(tmpdir(), 'iotedge-docker-pull-'));
  registry = await startLocalRegistry(USER, PASSWORD);
  createdSource = await ensureBusyboxImage(engine!, SOURCE_IMAGE);
  pushed = `${registry.address}/iotedge-test/busybox:1`;
  const [repo, tag] = [pushed.slice(0, pushed.lastIndexOf(':')), '1'];
  await engine!.client.getImage(SOURCE_IMAGE).tag({ repo, tag });
  const image = engine!.client.getImage(pushed);
  const stream = await image.push({
    authconfig: { username: USER, password: PASSWORD, serveraddress: registry.address },
  });
  const events = await new Promise<{ error?: string }[]>((resolve, reject) =>
    engine!.client.modem.followProgress(stream, (error: Error | null, output: { error?: string }[]) =>
      error ? reject(error) : resolve(output),
    ),
  );
  const failure = events.find((event) => event.error);
  if (failure) throw new Error(`pushing ${pushed} failed: ${failure.error}`);
  // only the registry has it now
  await removeImage(engine!, pushed);
  runtime = new DockerRuntime({
    uri: DOCKER_URI,
    network: 'host',
    homedir,
    allowElevated: false,
    owner: uniqueName('iotedge-ts-test-owner'),
    credentials: () => credentials,
    log: (message) => logged.push(message),
  });
});

after(async () => {
  if (skip) return;
  await runtime?.close();
  for (const name of created) await removeContainer(engine!, name);
  if (pushed) await removeImage(engine!, pushed);
  if (createdSource) await removeImage(engine!, SOURCE_IMAGE);
  await registry?.stop();
  await rm(homedir, { recursive: true, force: true });
});

const spec = (name: string, image: string): ModuleSpec => ({
  name,
  type: 'docker',
  status: 'running',
  restartPolicy: 'never',
  imagePullPolicy: 'on-create',
  startupOrder: 0,
  version: '1.0',
  env: {},
  settings: { image, createOptions: { Cmd: ['/bin/sh', '-c', 'exit 0'] } },
  configHash: 'h',
});

async function createModule(image: string): Promise<string> {
  const name = uniqueName('iotedge-test-pull');
  created.push(name);
  await runtime.create(spec(name, image), {});
  return name;
}

test('wrong credentials: the registry message, never the password', { skip }, async () => {
  credentials = [{ address: `http://${registry!.address}`, username: USER, password: 'wrong-Passw0rd' }];
  await assert.rejects(createModule(pushed), (error: Error) => {
    assert.match(error.message, /pulling .* failed: .*unauthorized/i);
    assert.ok(!error.message.includes('wrong-Passw0rd'));
    return true;
  });
  assert.ok(logged.every((line) => !line.includes('wrong-Passw0rd')));
});

test('no credentials for a registry that wants them: unauthorized', { skip }, async () => {
  credentials = [{ address: 'other.example.com', username: USER, password: PASSWORD }];
  await assert.rejects(createModule(pushed), /unauthorized|no basic auth credentials/i);
});

test('a missing image in the registry: the registry message', { skip }, async () => {
  credentials = [{ address: registry!.address, username: USER, password: PASSWORD }];
  await assert.rejects(
    createModule(`${registry!.address}/iotedge-test/absent:1`),
    /pulling .* failed: .*(not found|unknown)/i,
  );
});

test('right credentials: pulled on create, progress logged', { skip }, async () => {
  credentials = [{ address: registry!.address, username: USER, password: PASSWORD }];
  logged.length = 0;
  const name = await createModule(pushed);
  await engine!.client.getImage(pushed).inspect();
  const state = (await runtime.list()).find((module) => module.name === name);
  assert.equal(state?.image, pushed);
  assert.ok(logged.some((line) => line.includes(`pulled ${pushed}`)));
  assert.ok(logged.every((line) => !line.includes(PASSWORD)));
});
