import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { buildDemoImages, DEMO_IMAGES } from '../../src/demo/module-images.js';
import { eventually, ROOT } from '../helpers/daemon.js';
import { assertDemoAlerts, DemoRun, freePortBase } from '../helpers/demo-run.js';
import { SHARED_DIAGNOSTICS_IMAGE, testEngine } from '../helpers/docker.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { holdTestLock } from '../helpers/test-lock.js';

// The demo's modules as local Docker images (what `npm run demo:images` builds) under the Docker
// runtime, with contrib/config/deployment.docker.json: the same alerts reach $upstream.
const { engine, skip } = await testEngine();
const tempDir = tempDirs('iotedge-demo-docker-');
let demo: DemoRun | undefined;
let release: (() => Promise<void>) | undefined;

before(async () => {
  if (skip) return;
  release = await holdTestLock('docker-agent');
});

after(async () => {
  // after a failure: the daemon stops (the containers it started may stay until the next docker test's agent removes them)
  if (demo) await demo.stop();
  await release?.();
});

type Manifest = { modulesContent: Record<string, { 'properties.desired': Record<string, unknown> }> };

test('the demo modules as Docker images: alerts reach $upstream', { skip }, async () => {
  const built = await buildDemoImages(engine!, AbortSignal.timeout(300_000), SHARED_DIAGNOSTICS_IMAGE);
  assert.deepEqual(
    built,
    DEMO_IMAGES.map(({ image }) => image),
  );

  demo = new DemoRun(ROOT, await tempDir(), await freePortBase(), undefined, true);
  await demo.start();
  // the Docker deployment, on the ports this demo's hub listens on
  const started = JSON.parse(await readFile(path.join(demo.dir, 'deployment.json'), 'utf8')) as Manifest;
  const docker = JSON.parse(
    await readFile(path.join(ROOT, 'contrib/config/deployment.docker.json'), 'utf8'),
  ) as Manifest;
  const agent = (manifest: Manifest) =>
    manifest.modulesContent.$edgeAgent!['properties.desired'] as { systemModules: unknown };
  agent(docker).systemModules = agent(started).systemModules;
  const file = path.join(demo.dir, 'docker.json');
  await writeFile(file, JSON.stringify(docker));
  const deployed = await demo.cli(['deploy', file]);
  assert.equal(deployed.code, 0, deployed.stderr);

  await eventually(
    async () => {
      const list = await demo!.cli(['list', '--json']);
      const modules = (JSON.parse(list.stdout) as { modules?: { name: string; config?: unknown }[] }).modules;
      return (
        modules?.some((module) => JSON.stringify(module).includes('iotedge-ts-demo-filter')) || undefined
      );
    },
    'the filter container',
    120_000,
  );
  const watched = await demo.monitor(['--json', '--count', '2'], 120_000);
  assert.equal(watched.code, 0, `${watched.stderr}\n${demo.output.slice(-3000)}`);
  assertDemoAlerts(watched.stdout, 2);
  const logs = await demo.cli(['logs', 'filter']);
  assert.match(logs.stdout, /connected as demo-device\/filter/);

  // back to no modules: the agent removes the containers
  const empty = structuredClone(docker);
  (agent(empty) as unknown as { modules: object }).modules = {};
  await writeFile(file, JSON.stringify(empty));
  const emptied = await demo.cli(['deploy', file]);
  assert.equal(emptied.code, 0, emptied.stderr);
  const stopped = await demo.stop();
  demo = undefined;
  assert.deepEqual(stopped, { code: 0, signal: null });
});
