import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { containerEngineUriCheck } from '../../src/checks/container/engine.js';
import {
  ensureDiagnosticsImage,
  FINGERPRINT_LABEL,
  VERSION_LABEL,
} from '../../src/checks/support/diagnostics-image.js';
import { connectEngine, ContainerEngineError } from '../../src/runtime/modules/docker/docker-engine.js';
import { runDiagnostics } from '../../src/checks/support/run-diagnostics.js';
import { buildFromDockerfile, DOCKER_URI, removeImage, testEngine, uniqueName } from '../helpers/docker.js';
import { testContext, testSettings } from '../helpers/check-context.js';

const { engine, skip } = await testEngine();
const BUILD_TIMEOUT = AbortSignal.timeout(180_000);
const image = uniqueName('iotedge-ts-test-build');
const foreignImage = uniqueName('iotedge-ts-test-foreign');
/** A context whose settings name the engine at `uri`. */
const engineContext = (uri: string) =>
  testContext({ facts: { settings: testSettings({ moby_runtime: { uri, network: 'host' } }) } });

after(async () => {
  if (!engine) return;
  await removeImage(engine, foreignImage);
  await removeImage(engine, image);
});

test('connectEngine reaches the engine and reads its version', { skip }, async () => {
  const connected = await connectEngine(DOCKER_URI);
  assert.equal(connected.uri, DOCKER_URI);
  assert.match(connected.serverVersion, /^\d+\.\d+/);
});

test('connectEngine at a socket that does not exist says the engine is not running, naming the URI', async () => {
  const uri = 'unix:///nonexistent/iotedge-test/docker.sock';
  await assert.rejects(connectEngine(uri), (error: unknown) => {
    assert.ok(error instanceof ContainerEngineError);
    assert.equal(error.reason, 'not-running');
    assert.ok(error.message.includes(uri), error.message);
    return true;
  });
});

test('container-engine-uri provides the docker fact when the engine answers', { skip }, async () => {
  const ctx = engineContext(DOCKER_URI);
  const result = await containerEngineUriCheck.run(ctx);
  assert.equal(result.kind, 'ok');
  assert.equal(ctx.provided.docker?.uri, DOCKER_URI);
  assert.equal(result.additionalInfo?.docker_server_version, ctx.provided.docker?.serverVersion);
});

test('container-engine-uri fails naming the URI when nothing listens there', async () => {
  const uri = 'unix:///nonexistent/iotedge-test/docker.sock';
  const ctx = engineContext(uri);
  const result = await containerEngineUriCheck.run(ctx);
  assert.equal(result.kind, 'failed');
  assert.ok(
    result.kind === 'failed' &&
      result.message.startsWith(`Could not communicate with container engine at ${uri}.`),
  );
  assert.ok(result.kind === 'failed' && result.causes?.some((cause) => cause.includes('is not running')));
  assert.equal(ctx.provided.docker, undefined);
});

test('container-engine-uri rejects a scheme other than unix', async () => {
  const uri = 'tcp://127.0.0.1:2375';
  const ctx = engineContext(uri);
  const result = await containerEngineUriCheck.run(ctx);
  assert.equal(result.kind, 'failed');
  assert.equal(
    result.kind === 'failed' && result.message,
    `Could not communicate with container engine at ${uri}. The scheme tcp is invalid.`,
  );
});

test(
  'the diagnostics image is built when absent, shared by concurrent callers, then reused',
  { skip },
  async () => {
    const first = ensureDiagnosticsImage(engine!, image, BUILD_TIMEOUT, { version: '9.9.9' });
    const second = ensureDiagnosticsImage(engine!, image, BUILD_TIMEOUT);
    assert.equal(first, second, 'concurrent callers share one build');
    assert.equal(await first, image);

    const built = await engine!.client.getImage(image).inspect();
    assert.equal(built.Config.Labels?.[VERSION_LABEL], '9.9.9');
    assert.match(built.Config.Labels?.[FINGERPRINT_LABEL] ?? '', /^[0-9a-f]{32}$/);

    await ensureDiagnosticsImage(engine!, image, BUILD_TIMEOUT);
    assert.equal(
      (await engine!.client.getImage(image).inspect()).Id,
      built.Id,
      'the existing image is reused',
    );

    const run = await runDiagnostics(engine!, image, ['local-time'], {
      network: 'none',
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /^\d+\n$/);
  },
);

test(
  'a stale build of ours is rebuilt; a foreign image under the name is used as it is',
  { skip },
  async () => {
    await ensureDiagnosticsImage(engine!, image, BUILD_TIMEOUT);
    const current = await engine!.client.getImage(image).inspect();

    await buildFromDockerfile(engine!, image, `FROM ${image}\nLABEL ${FINGERPRINT_LABEL}="stale"\n`);
    await ensureDiagnosticsImage(engine!, image, BUILD_TIMEOUT);
    const rebuilt = await engine!.client.getImage(image).inspect();
    assert.equal(rebuilt.Config.Labels?.[FINGERPRINT_LABEL], current.Config.Labels?.[FINGERPRINT_LABEL]);

    await buildFromDockerfile(engine!, foreignImage, `FROM ${image}\nLABEL ${VERSION_LABEL}=""\n`);
    const foreign = await engine!.client.getImage(foreignImage).inspect();
    await ensureDiagnosticsImage(engine!, foreignImage, BUILD_TIMEOUT);
    assert.equal((await engine!.client.getImage(foreignImage).inspect()).Id, foreign.Id);
  },
);
