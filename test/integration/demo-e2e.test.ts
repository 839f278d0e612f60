import assert from 'node:assert/strict';
import { existsSync, realpathSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { ROOT } from '../helpers/daemon.js';
import { assertDemoAlerts, DemoRun, demoEnv, freePortBase, run } from '../helpers/demo-run.js';
import { tempDirs } from '../helpers/temp-dirs.js';

// The README's quick start in a fresh clone of this commit: `npm ci` (here: the checkout's
// node_modules linked in, as `npm ci` is slow and needs the network), the build it runs, `npm start`
// with a directory and ports of its own; the demo's messages are seen with `iotedge monitor --json`,
// and the daemon stops cleanly on SIGTERM.
const tempDir = tempDirs('iotedge-demo-e2e-');
let demo: DemoRun | undefined;

after(async () => {
  if (demo) await demo.stop();
});

test('fresh clone: build, npm start, messages through iotedge monitor --json, clean stop', async (t) => {
  const work = await tempDir();
  const clone = path.join(work, 'clone');
  const head = (await run('git', ['-C', ROOT, 'rev-parse', 'HEAD'])).stdout.trim();
  const cloned = await run('git', ['clone', '--quiet', '--no-checkout', ROOT, clone]);
  assert.equal(cloned.code, 0, cloned.stderr);
  const checkout = await run('git', ['-C', clone, 'checkout', '--quiet', head]);
  assert.equal(checkout.code, 0, checkout.stderr);
  await symlink(realpathSync(path.join(ROOT, 'node_modules')), path.join(clone, 'node_modules'));
  const build = await run('npm', ['run', 'build'], { cwd: clone, env: demoEnv(), timeoutMs: 600_000 });
  assert.equal(build.code, 0, `${build.stdout}\n${build.stderr}`);
  assert.ok(existsSync(path.join(clone, 'dist/src/demo/start.js')));

  demo = new DemoRun(clone, path.join(work, 'demo'), await freePortBase(), ['npm', 'start', '--']);
  const started = Date.now();
  await demo.start();
  const watched = await demo.monitor(['--json', '--count', '2'], 120_000);
  t.diagnostic(`first two alerts seen ${Date.now() - started} ms after npm start`);
  assert.equal(watched.code, 0, `${watched.stderr}\n${demo.output.slice(-3000)}`);
  assertDemoAlerts(watched.stdout, 2);

  const stopped = await demo.stop();
  demo = undefined;
  assert.deepEqual(stopped, { code: 0, signal: null });
  assert.equal(existsSync(path.join(work, 'demo/mgmt.sock')), false, 'the socket is removed on a clean stop');
});
