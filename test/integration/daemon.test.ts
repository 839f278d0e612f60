import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { FIXTURES, ROOT, TestDaemon, eventually, manifest, nodeModule } from '../helpers/daemon.js';

interface Details {
  name: string;
  type: string;
  config: { settings: Record<string, unknown> };
  status: {
    startTime?: string;
    exitStatus?: { statusCode: string };
    runtimeStatus: { status: string; description?: string };
  };
}

interface Reported {
  lastDesiredStatus: { code: number; description: string };
  modules: Record<
    string,
    {
      runtimeStatus: string;
      restartCount: number;
      lastRestartTimeUtc: string;
      exitCode: number;
      statusDescription: string;
    }
  >;
}

/** Two well-behaved modules, alpha greeting through its env: the deployment the first tests build on. */
const greeters = () => ({
  alpha: nodeModule('sleeper.js', ['200'], { env: { GREETING: { value: 'hello' } } }),
  beta: nodeModule('sleeper.js'),
});

async function modules(daemon: TestDaemon): Promise<Map<string, Details>> {
  const list = await daemon.json<{ modules: Details[] }>('GET', '/modules');
  return new Map(list.modules.map((module) => [module.name, module]));
}

async function statusOf(daemon: TestDaemon, name: string): Promise<string | undefined> {
  return (await modules(daemon)).get(name)?.status.runtimeStatus.status;
}

const waitForStatus = (daemon: TestDaemon, name: string, status: string) =>
  eventually(async () => ((await statusOf(daemon, name)) === status ? true : undefined), `${name} ${status}`);

/** The pid the module printed in its latest `started` line. */
function pidOf(daemon: TestDaemon, name: string): Promise<number> {
  return eventually(async () => {
    const logs = await daemon.request('GET', `/modules/${name}/logs`);
    const pids = [...logs.body.matchAll(/started \S+ pid=(\d+)/g)].map((match) => Number(match[1]));
    return pids.length > 0 ? pids[pids.length - 1] : undefined;
  }, `a start line in the logs of ${name}`);
}

describe('iotedged with process modules', () => {
  // A one-second cool-off unit: longer than a fixture's run, so every exit of `always` counts.
  const daemon = new TestDaemon({ CoolOffTimeUnitInSeconds: '1' });
  after(() => daemon.cleanup());

  test('serves the management API on a 0660 socket with the system modules', async () => {
    await daemon.start();
    assert.equal(statSync(daemon.socket).mode & 0o777, 0o660);
    const list = await modules(daemon);
    assert.equal(list.get('edgeAgent')?.status.runtimeStatus.status, 'running');
    const noVersion = await new Promise<{ status: number; body: string }>((resolve) => {
      http.get({ socketPath: daemon.socket, path: '/modules' }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
    });
    assert.equal(noVersion.status, 400);
    assert.deepEqual(JSON.parse(noVersion.body), { message: 'Invalid API version ""' });
    assert.equal((await daemon.request('GET', '/no/such/route')).status, 404);
    const badEscape = await daemon.request('GET', '/modules/%E0%A4%A');
    assert.equal(badEscape.status, 400);
    assert.match(JSON.parse(badEscape.body).message, /malformed escape in the path segment "%E0%A4%A"/);
    assert.doesNotMatch(daemon.output, /at .*management-api/, 'no stack trace in the log');
    assert.equal((await daemon.request('GET', '/deployment/status/edgeHub')).status, 404, 'no hub yet');
  });

  test('a deployment starts its modules with the IoT Edge environment and reports 200', async () => {
    const result = await daemon.request(
      'POST',
      '/deployment',
      manifest({
        ...greeters(),
      }),
    );
    assert.equal(result.status, 200, result.body);
    const reported = JSON.parse(result.body) as Reported;
    assert.equal(reported.lastDesiredStatus.code, 200);
    await waitForStatus(daemon, 'alpha', 'running');
    await waitForStatus(daemon, 'beta', 'running');
    const list = await modules(daemon);
    assert.equal(list.get('edgeHub')?.status.runtimeStatus.status, 'running');
    assert.deepEqual(list.get('alpha')?.config.settings.command, process.execPath);
    await eventually(async () => {
      const logs = await daemon.request('GET', '/modules/alpha/logs?tail=all');
      return logs.body.includes('device=edge-1 greeting=hello') ? true : undefined;
    }, 'alpha greeting in its logs');
  });

  const withRoutes = (routes: Record<string, string>) => {
    const document = manifest({});
    const hub = document.modulesContent.$edgeHub['properties.desired'];
    return {
      modulesContent: { ...document.modulesContent, $edgeHub: { 'properties.desired': { ...hub, routes } } },
    };
  };

  test('malformed manifests get IoT Edge codes naming the field, and the running deployment stays', async () => {
    const cases: [unknown, number, RegExp][] = [
      [manifest({ bad: nodeModule('sleeper.js', [], { restartPolicy: 'sometimes' }) }), 400, /restartPolicy/],
      [manifest({ bad: { ...nodeModule('sleeper.js'), status: undefined } }), 400, /status/],
      [manifest({}, { schemaVersion: '2.0' }), 412, /schemaVersion|schema/i],
      [{ modulesContent: { $edgeAgent: { 'properties.desired': {} } } }, 417, /empty/i],
      [
        manifest({
          bad: { type: 'docker', status: 'running', settings: { image: 'busybox', createOptions: '{nope' } },
        }),
        400,
        /createOptions/,
      ],
      [
        withRoutes({ bad: 'FROM /messages/* WHERE temp > 30 INTO $upstream' }),
        400,
        /^\$edgeHub\.properties\.desired\.routes\.bad: position \d+: /,
      ],
    ];
    for (const [document, code, field] of cases) {
      const result = await daemon.request('POST', '/deployment', document);
      assert.equal(result.status, code, result.body);
      const reported = JSON.parse(result.body) as Reported;
      assert.match(reported.lastDesiredStatus.description, field);
    }
    const notJson = await daemon.request('POST', '/deployment', '{not json');
    assert.equal(notJson.status, 400);
    assert.equal(await statusOf(daemon, 'alpha'), 'running');
    assert.equal(await statusOf(daemon, 'beta'), 'running');
  });

  test('a module whose command does not exist fails with the OS error; the others run on', async () => {
    const result = await daemon.request(
      'POST',
      '/deployment',
      manifest({
        ...greeters(),
        ghost: {
          type: 'process',
          status: 'running',
          restartPolicy: 'never',
          settings: { command: '/no/such/program' },
        },
      }),
    );
    assert.notEqual(result.status, 0);
    const ghost = await eventually(async () => {
      const details = (await modules(daemon)).get('ghost');
      return details?.status.runtimeStatus.status === 'failed' ? details : undefined;
    }, 'ghost failed');
    assert.match(ghost.status.runtimeStatus.description ?? '', /no\/such\/program/);
    assert.equal(await statusOf(daemon, 'alpha'), 'running');
  });

  test('restart policies: always restarts with growing backoff, never and on-failure leave clean exits', async () => {
    await daemon.request(
      'POST',
      '/deployment',
      manifest({
        always: nodeModule('exiter.js', ['0', '0'], { restartPolicy: 'always' }),
        never: nodeModule('exiter.js', ['3', '0'], { restartPolicy: 'never' }),
        onfailure: nodeModule('exiter.js', ['0', '0'], { restartPolicy: 'on-failure' }),
        crashing: nodeModule('exiter.js', ['3', '0'], { restartPolicy: 'on-failure' }),
      }),
    );
    // Watch the restart count of `always` grow: the gaps between restarts double (1 s unit).
    const seen = new Map<number, number>();
    const reported = await eventually(
      async () => {
        const status = await daemon.json<Reported>('GET', '/deployment/status');
        const count = status.modules.always?.restartCount ?? 0;
        if (!seen.has(count)) seen.set(count, Date.now());
        return count >= 4 && status.modules.crashing?.restartCount >= 2 ? status : undefined;
      },
      'restarts of always and crashing',
      40_000,
    );
    const gap = (from: number) => seen.get(from + 1)! - seen.get(from)!;
    assert.ok(gap(3) > gap(2) * 1.4, `backoff grows: ${gap(2)} ms then ${gap(3)} ms`);
    assert.equal(reported.modules.never.restartCount, 0);
    assert.equal(reported.modules.onfailure.restartCount, 0);
    assert.equal(await statusOf(daemon, 'never'), 'failed');
    assert.equal(await statusOf(daemon, 'onfailure'), 'stopped');
    const list = await modules(daemon);
    assert.equal(list.get('never')?.status.exitStatus?.statusCode, '3');
  });
});

describe('startup order and daemon restarts', () => {
  const daemon = new TestDaemon();
  after(() => daemon.cleanup());

  /** Module names in the order the runtime launched them (start times), once all three run. */
  const startOrder = () =>
    eventually(async () => {
      const list = [...(await modules(daemon)).values()].filter((m) =>
        ['first', 'second', 'third'].includes(m.name),
      );
      if (list.length !== 3 || list.some((m) => m.status.runtimeStatus.status !== 'running'))
        return undefined;
      return list
        .sort((a, b) => Date.parse(a.status.startTime!) - Date.parse(b.status.startTime!))
        .map((m) => m.name);
    }, 'three running modules');

  test('startupOrder is honoured on deployment and again after a daemon restart', async () => {
    await daemon.start();
    await daemon.request(
      'POST',
      '/deployment',
      manifest({
        third: nodeModule('sleeper.js', [], { startupOrder: 2 }),
        first: nodeModule('sleeper.js', [], { startupOrder: 0 }),
        second: nodeModule('sleeper.js', [], { startupOrder: 1 }),
      }),
    );
    assert.deepEqual(await startOrder(), ['first', 'second', 'third']);
    const firstRun = (await modules(daemon)).get('first')!.status.startTime;

    assert.equal(await daemon.signal('SIGTERM'), 0, 'SIGTERM exits 0');
    await daemon.start();
    const order = await startOrder();
    assert.notEqual((await modules(daemon)).get('first')!.status.startTime, firstRun, 'started anew');
    assert.deepEqual(order, ['first', 'second', 'third']);
  });

  test('after SIGKILL the restarted daemon adopts running modules: same process, logs continue', async () => {
    await daemon.request('POST', '/deployment', manifest({ steady: nodeModule('sleeper.js', ['100']) }));
    await waitForStatus(daemon, 'steady', 'running');
    const before = await pidOf(daemon, 'steady');
    await daemon.signal('SIGKILL');
    process.kill(before, 0);
    await daemon.start();
    await waitForStatus(daemon, 'steady', 'running');
    assert.equal(await pidOf(daemon, 'steady'), before, 'the same process, not a second copy');
    const marker = Date.now() / 1000;
    await eventually(async () => {
      const logs = await daemon.request('GET', `/modules/steady/logs?since=${Math.floor(marker)}`);
      return logs.body.includes('tick steady') ? true : undefined;
    }, 'new log lines after adoption');
    await daemon.request('POST', '/modules/steady/restart');
    await eventually(
      async () => ((await pidOf(daemon, 'steady')) !== before ? true : undefined),
      'a new process',
    );
  });
});

describe('logs, health, secrets and one daemon per homedir', () => {
  const daemon = new TestDaemon({ CoolOffTimeUnitInSeconds: '0.5' });
  after(() => daemon.cleanup());
  const sickFile = path.join(daemon.dir, 'sick');

  test('iotedge logs applies --tail, --since/--until and follows with -f', async () => {
    await daemon.start();
    await daemon.request('POST', '/deployment', manifest({ talker: nodeModule('sleeper.js', ['100']) }));
    await waitForStatus(daemon, 'talker', 'running');
    await eventually(
      async () =>
        (await daemon.request('GET', '/modules/talker/logs')).body.includes('tick') ? true : undefined,
      'ticks',
    );

    const tail = daemon.cli(['logs', 'talker', '--tail', '1']);
    assert.equal(tail.code, 0, tail.stderr);
    assert.equal(tail.stdout.trim().split('\n').length, 1);

    const stamped = daemon.cli(['logs', 'talker', '--tail', '2', '-t']);
    assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (started|tick) /m);

    const beforeStart = daemon.cli(['logs', 'talker', '--until', '2000-01-01T00:00:00Z']);
    assert.equal(beforeStart.stdout, '');
    const recent = daemon.cli(['logs', 'talker', '--since', '1 minute']);
    assert.match(recent.stdout, /tick talker/);

    const follower = spawn(
      process.execPath,
      [path.join(ROOT, 'bin/run.js'), 'logs', 'talker', '-f', '--tail', '0'],
      {
        env: { ...process.env, IOTEDGE_HOST: daemon.host },
      },
    );
    let followed = '';
    follower.stdout.on('data', (chunk) => (followed += chunk));
    await eventually(
      async () => (followed.split('tick talker').length > 3 ? true : undefined),
      'followed ticks',
    );
    follower.kill('SIGINT');
  });

  test('on-unhealthy restarts a module whose health probe fails, and it recovers', async () => {
    writeFileSync(sickFile, '');
    await daemon.request(
      'POST',
      '/deployment',
      manifest({
        talker: nodeModule('sleeper.js', ['100']),
        patient: nodeModule('sleeper.js', [], {
          restartPolicy: 'on-unhealthy',
          settings: {
            command: process.execPath,
            args: [path.join(FIXTURES, 'sleeper.js')],
            healthProbe: {
              command: '/bin/sh',
              args: ['-c', `test ! -e ${sickFile}`],
              intervalSecs: 0.2,
              failureThreshold: 2,
            },
          },
        }),
      }),
    );
    await eventually(async () => {
      const status = await daemon.json<Reported>('GET', '/deployment/status');
      return status.modules.patient?.restartCount >= 1 ? true : undefined;
    }, 'a restart of the unhealthy module');
    rmSync(sickFile);
    await waitForStatus(daemon, 'patient', 'running');
  });

  test('registry passwords are never reported and the saved deployment is private', async () => {
    const secret = 'hunter2-registry-password';
    const result = await daemon.request(
      'POST',
      '/deployment',
      manifest(
        { talker: nodeModule('sleeper.js', ['100']) },
        {
          runtime: {
            type: 'docker',
            settings: {
              registryCredentials: { acr: { address: 'r.example', username: 'u', password: secret } },
            },
          },
        },
      ),
    );
    assert.equal(result.status, 200, result.body);
    assert.ok(!result.body.includes(secret));
    assert.ok(!(await daemon.request('GET', '/deployment/status')).body.includes(secret));
    assert.equal(statSync(path.join(daemon.homedir, 'agent', 'deployment.json')).mode & 0o777, 0o600);
  });

  test('a second daemon on the same homedir is refused', () => {
    const other = path.join(daemon.dir, 'other.yaml');
    writeFileSync(other, readFileSync(daemon.configFile, 'utf8').replaceAll('mgmt.sock', 'other-mgmt.sock'));
    const second = spawnSync(process.execPath, [path.join(ROOT, 'bin/iotedged.js'), '-c', other], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(second.status, 1);
    assert.match(second.stderr, /another iotedged \(pid \d+\) is using/);
  });
});

describe('a container engine that does not answer', () => {
  const daemon = new TestDaemon();
  after(() => daemon.cleanup());

  test('docker modules get 500 naming the engine; process modules run on and the API keeps serving', async () => {
    await daemon.start();
    const result = await daemon.request(
      'POST',
      '/deployment',
      manifest({
        boxed: { type: 'docker', status: 'running', settings: { image: 'busybox:1', createOptions: '{}' } },
        local: nodeModule('sleeper.js'),
      }),
    );
    const reported = JSON.parse(result.body) as Reported;
    assert.equal(result.status, 500, result.body);
    assert.match(reported.lastDesiredStatus.description, /docker runtime: .*no-docker\.sock/);
    assert.match(reported.lastDesiredStatus.description, /boxed/);
    await waitForStatus(daemon, 'local', 'running');
  });
});
