import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';

import { BUSYBOX_IMAGE, busyboxMissing, ensureBusyboxImage } from '../helpers/busybox-image.js';
import { CHAOS_ROUTE, ChaosLoad, RECEIVER, SENDER, type ChaosFigures } from '../helpers/chaos/chaos-load.js';
import { TestDaemon, eventually, manifest, nodeModule } from '../helpers/daemon.js';
import { PrivateDockerd } from '../helpers/private-dockerd.js';
import { SmallTmpfs } from '../helpers/small-tmpfs.js';

/**
 * Faults under steady load: iotedged SIGKILLed again and again, its homedir's disk filled and
 * freed, the container engine stopped and started. After each, the modules run again and the
 * clients get back in without a manual step; at the end, no message or reported patch the hub
 * acknowledged is missing. Duplicates are allowed (at least once) and reported.
 */

const HOSTNAME = 'localhost';
const RATE = 300;
const DRAIN_MS = 60_000;

function deployment(extraModules: Record<string, Record<string, unknown>> = {}) {
  const document = manifest({
    [RECEIVER]: nodeModule('sleeper.js', ['600000']),
    [SENDER]: nodeModule('sleeper.js', ['600000']),
    ...extraModules,
  });
  document.modulesContent.$edgeHub['properties.desired'].routes = { chaos: CHAOS_ROUTE } as never;
  return document;
}

async function running(daemon: TestDaemon, modules: string[]): Promise<void> {
  await eventually(
    async () => {
      const list = await daemon.json<{
        modules: { name: string; status: { runtimeStatus: { status: string } } }[];
      }>('GET', '/modules');
      const states = new Map(list.modules.map((module) => [module.name, module.status.runtimeStatus.status]));
      return modules.every((module) => states.get(module) === 'running') ? true : undefined;
    },
    `${modules.join(', ')} running`,
    60_000,
  );
}

/** The end of every scenario: drained, nothing acknowledged lost, the last acknowledged patch kept. */
async function settle(
  t: TestContext,
  load: ChaosLoad,
  scenario: string,
  trials: number,
): Promise<ChaosFigures> {
  load.stop();
  await load.drain(DRAIN_MS);
  await load.connected();
  const figures = load.report();
  const reported = await load.reportedPatch();
  t.diagnostic(`${scenario}: ${trials} trials, ${JSON.stringify(figures)}, reported patch ${reported}`);
  assert.ok(figures.acknowledged > trials * 100, `only ${figures.acknowledged} messages were acknowledged`);
  assert.equal(
    figures.lost,
    0,
    `${figures.lost} acknowledged messages never arrived (first: ${figures.firstLost.join(', ')})`,
  );
  assert.equal(figures.strangers, 0);
  assert.ok(figures.twin.acknowledged > 0, 'reported patches were acknowledged');
  assert.ok(
    reported !== undefined && reported >= figures.twin.lastAcknowledged,
    `the twin says patch ${reported}, patch ${figures.twin.lastAcknowledged} was acknowledged`,
  );
  return figures;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('chaos: iotedged SIGKILLed under load', () => {
  const daemon = new TestDaemon({}, [], HOSTNAME);
  const load = new ChaosLoad(daemon, HOSTNAME, RATE);
  after(async () => {
    load.close();
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    await daemon.cleanup();
  });

  test('five kills: modules come back, clients get back in, nothing acknowledged is lost', async (t) => {
    const trials = 5;
    await daemon.start();
    const result = await daemon.request('POST', '/deployment', deployment());
    assert.equal(result.status, 200, result.body);
    await running(daemon, [SENDER, RECEIVER]);
    await load.start();
    for (let trial = 0; trial < trials; trial++) {
      await pause(1500 + Math.random() * 1000);
      await daemon.signal('SIGKILL');
      await daemon.start();
      await running(daemon, [SENDER, RECEIVER]);
      await load.connected();
    }
    await pause(1000);
    const figures = await settle(t, load, 'SIGKILL', trials);
    assert.ok(figures.reconnects >= trials * 2, `the clients reconnected ${figures.reconnects} times`);
  });
});

describe("chaos: the hub's disk filled and freed under load", () => {
  const daemon = new TestDaemon({}, [], HOSTNAME);
  const hubDir = path.join(daemon.homedir, 'hub');
  mkdirSync(hubDir, { recursive: true });
  const mounted = SmallTmpfs.mount(32 * 1024, hubDir);
  const disk = 'skip' in mounted ? undefined : mounted;
  const load = new ChaosLoad(daemon, HOSTNAME, RATE);
  after(async () => {
    load.close();
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    await daemon.signal('SIGTERM');
    disk?.unmount();
    await daemon.cleanup();
  });

  test(
    'three fills: writes are refused while full, nothing acknowledged is lost, traffic resumes',
    { skip: 'skip' in mounted ? mounted.skip : false },
    async (t) => {
      const trials = 3;
      await daemon.start();
      const result = await daemon.request('POST', '/deployment', deployment());
      assert.equal(result.status, 200, result.body);
      await running(daemon, [SENDER, RECEIVER]);
      await load.start();
      for (let trial = 0; trial < trials; trial++) {
        await pause(1500);
        disk!.fill();
        await pause(1500);
        disk!.free();
        const before = load.report().acknowledged;
        await eventually(
          async () => (load.report().acknowledged > before + 50 ? true : undefined),
          'traffic to resume after the disk was freed',
          30_000,
        );
      }
      assert.equal(daemon.process!.exitCode, null, 'the daemon is alive');
      await settle(t, load, 'disk full', trials);
    },
  );
});

const dockerSkip = PrivateDockerd.missing() || busyboxMissing();

describe('chaos: the container engine stopped and started under load', { skip: dockerSkip }, () => {
  const engine = new PrivateDockerd();
  let daemon: TestDaemon;
  let load: ChaosLoad;
  after(async () => {
    load?.close();
    if (process.env.DEBUG_DAEMON) console.log(daemon?.output, engine.output);
    await daemon?.cleanup();
    await engine.cleanup();
  });

  test('two restarts of dockerd: the container comes back, process modules and the hub never stop', async (t) => {
    const trials = 2;
    const started = await engine.start();
    await ensureBusyboxImage(started, BUSYBOX_IMAGE);
    daemon = new TestDaemon({}, ['moby_runtime:', `  uri: ${engine.uri}`, '  network: host'], HOSTNAME);
    load = new ChaosLoad(daemon, HOSTNAME, RATE);
    await daemon.start();
    const boxed = {
      type: 'docker',
      status: 'running',
      restartPolicy: 'always',
      imagePullPolicy: 'never',
      settings: {
        image: BUSYBOX_IMAGE,
        createOptions: JSON.stringify({ Cmd: ['sleep', '1000'], StopTimeout: 1 }),
      },
    };
    const result = await daemon.request('POST', '/deployment', deployment({ boxed }));
    assert.equal(result.status, 200, result.body);
    await running(daemon, [SENDER, RECEIVER, 'boxed']);
    await load.start();
    for (let trial = 0; trial < trials; trial++) {
      await pause(1000);
      await engine.stop();
      await pause(1500);
      await engine.start();
      await running(daemon, [SENDER, RECEIVER, 'boxed']);
    }
    const figures = await settle(t, load, 'dockerd restarts', trials);
    assert.equal(figures.reconnects, 0, 'the hub never dropped a client while the engine was away');
  });
});
