import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DEPLOYMENT_NOTES_HEADER,
  encodeDeploymentNotes,
  type DeploymentNotes,
} from '../../src/runtime/daemon/deployment-notes.js';
import { encodeLogFrame } from '../../src/runtime/daemon/log-frames.js';
import type { ModuleDetails } from '../../src/runtime/daemon/management-types.js';
import { TIME_FORMS } from '../../src/cli/time-args.js';
import { manifestWith } from '../helpers/manifest-fixture.js';

/**
 * The CLI's daemon commands against a fake management API on a unix socket that serves the JSON
 * shapes of IoT Edge 1.1's management API (the real daemon's own tests exercise the same commands).
 */

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'iotedge-cli-daemon-'));
const socket = path.join(tmp, 'mgmt.sock');
const host = `unix://${socket}`;

interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
}
const requests: Recorded[] = [];
const openLogStreams = new Set<ServerResponse>();
let server: Server;

const HOUR = 3600_000;
/** The fake daemon's times are relative to this instant; tests that read them reset it first. */
let clock = Date.now();
const ago = (ms: number): string => new Date(clock - ms).toISOString();
const KNOWN = ['edgeAgent', 'edgeHub', 'tempSensor', 'worker', 'a', 'b', 'c'];

function moduleList(): { modules: ModuleDetails[] } {
  const docker = (name: string, image: string, status: ModuleDetails['status']): ModuleDetails => ({
    id: 'id',
    name,
    type: 'docker',
    config: { settings: { image }, env: [] },
    status,
  });
  return {
    modules: [
      {
        id: 'id',
        name: 'worker',
        type: 'process',
        config: { settings: { command: 'node', args: ['worker.js'] }, env: [{ key: 'A', value: '1' }] },
        status: { startTime: ago(2 * HOUR + 60_000), runtimeStatus: { status: 'running' } },
      },
      docker('tempSensor', 'mcr.microsoft.com/azureiotedge-simulated-temperature-sensor:1.0', {
        exitStatus: { exitTime: ago(60_000), statusCode: '137' },
        runtimeStatus: { status: 'failed' },
      }),
      docker('edgeHub', 'mcr.microsoft.com/azureiotedge-hub:1.1', {
        exitStatus: { exitTime: ago(50 * HOUR), statusCode: '0' },
        runtimeStatus: { status: 'stopped' },
      }),
      docker('edgeAgent', 'mcr.microsoft.com/azureiotedge-agent:1.1', {
        startTime: ago(200_000),
        runtimeStatus: { status: 'running', description: 'running' },
      }),
    ],
  };
}

const reported = {
  schemaVersion: '1.0',
  lastDesiredVersion: 4,
  lastDesiredStatus: { code: 200, description: '' },
  runtime: {
    type: 'docker',
    settings: { registryCredentials: { acr: { username: 'u', password: '******' } } },
  },
  systemModules: { edgeAgent: { runtimeStatus: 'running' }, edgeHub: { runtimeStatus: 'stopped' } },
  modules: {
    worker: { status: 'running', restartPolicy: 'always', runtimeStatus: 'running', restartCount: 0 },
  },
};

const notes: DeploymentNotes = {
  changes: {
    added: ['ticker'],
    updated: ['worker'],
    removed: [],
    started: [],
    stopped: [],
    desiredProperties: ['$edgeHub'],
    unchanged: 1,
  },
  warnings: [
    'config.yaml sets agent.env.ConfigSource to local: the deployment in /etc/d.json will replace this one',
  ],
};

const LOG_FRAMES = Buffer.concat([
  encodeLogFrame('stdout', 'line one\n'),
  encodeLogFrame('stderr', 'oops on stderr\n'),
  encodeLogFrame('stdout', 'line three\n'),
]);

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function serveLogs(res: ServerResponse, query: URLSearchParams): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  // Split the frames at awkward places: inside a header and inside a payload.
  res.write(LOG_FRAMES.subarray(0, 5));
  res.write(LOG_FRAMES.subarray(5, 20));
  res.write(LOG_FRAMES.subarray(20));
  if (query.get('follow') !== 'true') {
    res.end();
    return;
  }
  if (query.get('tail') === 'forever') return; // never reached: the CLI validates --tail
  openLogStreams.add(res);
  res.on('close', () => openLogStreams.delete(res));
  if (query.get('since') === '0') return; // "follow forever" (the Ctrl-C test)
  setTimeout(() => {
    res.write(encodeLogFrame('stdout', 'followed line\n'));
    setTimeout(() => res.end(encodeLogFrame('stderr', 'last line\n')), 50);
  }, 100);
}

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://mgmt');
  requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, body });
  if (url.searchParams.get('api-version') !== '2020-07-07') {
    json(res, 400, { message: `Invalid API version "${url.searchParams.get('api-version') ?? ''}"` });
    return;
  }
  const route = `${req.method} ${url.pathname}`;
  const moduleRoute = /^(GET|POST) \/modules\/([^/]+)\/(restart|logs)$/.exec(route);
  if (moduleRoute) {
    const name = decodeURIComponent(moduleRoute[2]);
    if (!KNOWN.includes(name)) return json(res, 404, { message: `Module ${name} not found` });
    if (moduleRoute[3] === 'restart' && moduleRoute[1] === 'POST') return void res.writeHead(204).end();
    if (moduleRoute[3] === 'logs' && moduleRoute[1] === 'GET') return serveLogs(res, url.searchParams);
  }
  switch (route) {
    case 'GET /modules':
      return json(res, 200, moduleList());
    case 'GET /systeminfo':
      return json(res, 200, {
        osType: 'linux',
        architecture: 'x86_64',
        version: '9.8.7',
        provisioning: {
          type: 'manual.device_connection_string',
          dynamicReprovisioning: false,
          alwaysReprovisionOnStartup: true,
        },
        server_version: '',
        kernel_version: '6.1',
        operating_system: 'Debian',
        cpus: 2,
        virtualized: 'yes',
      });
    case 'GET /systeminfo/resources':
      return json(res, 200, {
        host_uptime: 100_000,
        process_uptime: 7384,
        used_cpu: 1,
        used_ram: 1,
        total_ram: 2,
        disks: [],
        docker_stats: '',
      });
    case 'GET /deployment/status':
      return json(res, 200, reported);
    case 'GET /devices':
      return json(res, 200, {
        devices: [
          { deviceId: 'leaf1', authType: 'Sas', createdTime: ago(HOUR), connectionState: 'Connected' },
        ],
      });
    case 'POST /deployment': {
      const manifest = JSON.parse(body) as { modulesContent?: Record<string, unknown> };
      if (!manifest.modulesContent) {
        return json(res, 400, { message: 'The deployment manifest has no modulesContent', code: 400 });
      }
      if ('badPolicy' in manifest.modulesContent) {
        // as iotedged answers a refused deployment: 400 with the reported properties
        return json(res, 400, {
          ...reported,
          lastDesiredStatus: {
            code: 400,
            description: 'modules.ticker.restartPolicy: unknown value "sometimes"',
          },
        });
      }
      if ('withNotes' in manifest.modulesContent)
        res.setHeader(DEPLOYMENT_NOTES_HEADER, encodeDeploymentNotes(notes));
      if ('stepFails' in manifest.modulesContent) {
        return json(res, 200, {
          ...reported,
          lastDesiredStatus: { code: 500, description: 'module worker: spawn ENOENT' },
        });
      }
      return json(res, 200, reported);
    }
    default:
      res.writeHead(404).end();
  }
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.listen(socket);
  await once(server, 'listening');
});

after(async () => {
  for (const res of openLogStreams) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking this process's event loop (the fake daemon lives in it). */
function iotedge(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void,
  prefix: string[] = [],
  prefixIsCommand = false,
): Promise<Run> {
  const command = prefixIsCommand
    ? prefix
    : [...prefix, process.execPath, path.join(root, 'bin/run.js'), ...args];
  const child = spawn(command[0], command.slice(1), {
    env: { ...process.env, NO_COLOR: '1', IOTEDGE_HOST: undefined, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
    onStdout?.(stdout, child);
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const since = (marker: number) => requests.slice(marker);
const noStack = (run: Run) => assert.doesNotMatch(run.stderr, /\n\s+at |\.js:\d+/);

test('list prints the 1.1 table with humanised times', async () => {
  clock = Date.now();
  const run = await iotedge(['list', '-H', host]);
  assert.equal(run.stderr, '');
  assert.equal(run.code, 0);
  assert.equal(
    run.stdout,
    [
      'NAME             STATUS           DESCRIPTION                CONFIG',
      'edgeAgent        running          Up 3 minutes               mcr.microsoft.com/azureiotedge-agent:1.1',
      'edgeHub          stopped          Stopped 2 days ago         mcr.microsoft.com/azureiotedge-hub:1.1',
      'tempSensor       failed           Failed (137) a minute ago  mcr.microsoft.com/azureiotedge-simulated-temperature-sensor:1.0',
      'worker           running          Up 2 hours                 node worker.js',
      '',
    ].join('\n'),
  );
});

test('the fast-lane list prints exactly what the oclif command prints, errors included', async () => {
  clock = Date.now();
  const fast = (args: string[]) =>
    iotedge(
      [],
      {},
      undefined,
      [
        process.execPath,
        '--input-type=module',
        '-e',
        `const { runListFast } = await import(${JSON.stringify(path.join(root, 'dist/src/cli/list-fast.js'))});
         if (!(await runListFast(${JSON.stringify(args)}))) process.exit(99);`,
      ],
      true,
    );
  for (const args of [
    ['list', '-H', host],
    ['list', '--json', `--host=${host}`],
    ['list', '-H', `unix://${path.join(tmp, 'absent.sock')}`],
    ['list', '-H', 'tcp://example'],
  ]) {
    const [viaOclif, viaFastLane] = await Promise.all([iotedge(args), fast(args)]);
    assert.equal(viaFastLane.code, viaOclif.code, args.join(' '));
    assert.equal(viaFastLane.stdout, viaOclif.stdout, args.join(' '));
    assert.equal(viaFastLane.stderr, viaOclif.stderr, args.join(' '));
  }
});

test('list --json prints the module list; IOTEDGE_HOST selects the socket', async () => {
  const run = await iotedge(['list', '--json'], { IOTEDGE_HOST: host });
  assert.equal(run.code, 0, run.stderr);
  const list = JSON.parse(run.stdout) as { modules: ModuleDetails[] };
  assert.deepEqual(
    list.modules.map((m) => [m.name, m.type, m.status.runtimeStatus.status]),
    moduleList().modules.map((m) => [m.name, m.type, m.status.runtimeStatus.status]),
  );
  assert.deepEqual(list.modules[0].config, moduleList().modules[0].config);
});

test('logs writes every frame payload in order and sends tail, since and timestamps', async () => {
  const marker = requests.length;
  const run = await iotedge(['logs', 'worker', '-H', host]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'line one\noops on stderr\nline three\n');
  const [request] = since(marker);
  assert.equal(request.path, '/modules/worker/logs');
  assert.equal(request.query.get('tail'), 'all');
  assert.equal(request.query.get('follow'), 'false');
  assert.equal(request.query.get('timestamps'), 'false');
  assert.equal(request.query.has('until'), false);
  const sinceSeconds = Number(request.query.get('since'));
  const dayAgo = Date.now() / 1000 - 86_400;
  assert.ok(Math.abs(sinceSeconds - dayAgo) < 120, `since=${sinceSeconds} is about a day ago`);
});

test('logs sends --until (unlike 1.1), --tail, -t and the RFC3339 / unix forms', async () => {
  const marker = requests.length;
  const run = await iotedge([
    'logs',
    'worker',
    '-H',
    host,
    '--tail',
    '5',
    '--since',
    '2024-05-01T10:00:00Z',
    '--until',
    '1714561200',
    '-t',
  ]);
  assert.equal(run.code, 0, run.stderr);
  const [request] = since(marker);
  assert.equal(request.query.get('tail'), '5');
  assert.equal(request.query.get('since'), '1714557600');
  assert.equal(request.query.get('until'), '1714561200');
  assert.equal(request.query.get('timestamps'), 'true');
});

test('logs -f streams until the daemon closes the stream', async () => {
  const marker = requests.length;
  const run = await iotedge(['logs', '-f', 'worker', '-H', host, '--since', '10 minutes']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'line one\noops on stderr\nline three\nfollowed line\nlast line\n');
  assert.equal(since(marker)[0].query.get('follow'), 'true');
});

test('logs -f stops on Ctrl-C and the daemon sees the connection close', async () => {
  const run = await iotedge(
    ['logs', '--follow', 'worker', '-H', host, '--since', '0'],
    {},
    (stdout, child) => {
      if (stdout.endsWith('line three\n')) child.kill('SIGINT');
    },
  );
  assert.ok(run.signal === 'SIGINT' || run.code !== 0, `exit ${run.code} ${run.signal}`);
  assert.equal(run.stdout, 'line one\noops on stderr\nline three\n');
  const deadline = Date.now() + 10_000;
  while (openLogStreams.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(openLogStreams.size, 0);
});

test('bad --since, --until and --tail values are refused before any request', async () => {
  const marker = requests.length;
  for (const [flag, value] of [
    ['--since', 'yesterday'],
    ['--until', '1.5 hours'],
    ['--tail', '-3'],
  ]) {
    const run = await iotedge(['logs', 'worker', '-H', host, flag, value]);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      flag === '--tail'
        ? "Invalid value for --tail parameter: '-3'. Use a number of lines or all.\n"
        : `Invalid value for ${flag} parameter: '${value}'. Use ${TIME_FORMS}.\n`,
    );
    assert.equal(run.stdout, '');
  }
  assert.equal(since(marker).length, 0);
});

test('logs of an unknown module prints the daemon message and exits 1', async () => {
  const run = await iotedge(['logs', 'ghost', '-H', host]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr, 'Module ghost not found\n');
  assert.equal(run.stdout, '');
});

test('restart takes several modules, prints each restarted one and reports failures at the end', async () => {
  const marker = requests.length;
  const run = await iotedge(['restart', 'a', 'b', 'ghost', 'c', '-H', host]);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, 'a\nb\nc\n');
  assert.equal(run.stderr, 'Module ghost not found\n');
  assert.deepEqual(
    since(marker).map((r) => `${r.method} ${r.path}`),
    ['a', 'b', 'ghost', 'c'].map((name) => `POST /modules/${name}/restart`),
  );
  const one = await iotedge(['restart', 'edgeHub', '-H', host]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, 'edgeHub\n');
});

test('system status shows the daemon, its version, uptime and a module summary', async () => {
  const run = await iotedge(['system', 'status', '-H', host]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    run.stdout,
    `iotedged is running at ${host}\nVersion: 9.8.7\nUptime:  2 hours 3 minutes\nModules: 2 running, 1 stopped, 1 failed (4 in all)\n`,
  );
  const asJson = await iotedge(['system', 'status', '--json', '-H', host]);
  assert.deepEqual(JSON.parse(asJson.stdout), {
    daemon: { host, running: true, version: '9.8.7', uptimeSeconds: 7384 },
    modules: { running: 2, stopped: 1, failed: 1 },
  });
});

const manifestFile = path.join(tmp, 'deployment.json');
const manifest = manifestWith({
  'runtime.settings.registryCredentials': {
    acr: { username: 'u', password: 'SECRET-PASSWORD', address: 'x' },
  },
});

test('deploy sends the manifest as it is; --json prints the resulting reported properties', async () => {
  const text = JSON.stringify(manifest, null, 4);
  writeFileSync(manifestFile, text);
  const marker = requests.length;
  const run = await iotedge(['deploy', manifestFile, '--json', '-H', host]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `${JSON.stringify(reported, null, 2)}\n`);
  const [request] = since(marker);
  assert.equal(`${request.method} ${request.path}`, 'POST /deployment');
  assert.equal(request.body, text);
  assert.doesNotMatch(run.stdout + run.stderr, /SECRET-PASSWORD/);
});

test("without --json deploy prints one line: the daemon's account of the changes, its warnings on stderr", async () => {
  const file = path.join(tmp, 'with-notes.json');
  writeFileSync(file, JSON.stringify({ modulesContent: { withNotes: true } }));
  const run = await iotedge(['deploy', file, '-H', host]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    run.stdout,
    'Deployment accepted: added 1 (ticker), updated 1 (worker), new desired properties for 1 ($edgeHub), 1 unchanged\n',
  );
  assert.equal(run.stderr, `Warning: ${notes.warnings![0]}\n`);
  const plain = await iotedge(['deploy', manifestFile, '-H', host]);
  assert.equal(
    plain.stdout,
    'Deployment accepted: 1 module(s)\n',
    'a daemon without notes: the module count',
  );
  assert.equal(plain.stderr, '');
});

test("a refused deployment prints the agent's reason, never the manifest", async () => {
  const file = path.join(tmp, 'bad-policy.json');
  writeFileSync(file, JSON.stringify({ modulesContent: { badPolicy: true }, password: 'SECRET-PASSWORD' }));
  const run = await iotedge(['deploy', file, '-H', host]);
  assert.equal(run.code, 1);
  assert.equal(
    run.stderr,
    'Deployment failed (400): modules.ticker.restartPolicy: unknown value "sometimes"\n',
  );
  assert.equal(run.stdout, '');
  const asJson = await iotedge(['deploy', file, '--json', '-H', host]);
  assert.equal(asJson.code, 1);
  assert.equal(JSON.parse(asJson.stdout).lastDesiredStatus.code, 400);
  assert.doesNotMatch(asJson.stdout + asJson.stderr, /SECRET-PASSWORD/);
});

test('a refusal without reported properties prints the daemon message and code', async () => {
  const file = path.join(tmp, 'no-content.json');
  writeFileSync(file, JSON.stringify({ password: 'SECRET-PASSWORD' }));
  const run = await iotedge(['deploy', file, '-H', host]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr, 'Deployment failed (400): The deployment manifest has no modulesContent\n');
  assert.equal(run.stdout, '');
});

test('a deployment whose status code is not 200 prints the summary, the status, and exits 1', async () => {
  const file = path.join(tmp, 'step-fails.json');
  writeFileSync(file, JSON.stringify({ modulesContent: { stepFails: true } }));
  const run = await iotedge(['deploy', file, '-H', host]);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, 'Deployment accepted: 1 module(s)\n');
  assert.equal(run.stderr, 'Deployment failed (500): module worker: spawn ENOENT\n');
  const asJson = await iotedge(['deploy', file, '--json', '-H', host]);
  assert.equal(JSON.parse(asJson.stdout).lastDesiredStatus.code, 500);
});

test('deploy names the file when it is missing or not JSON, and sends nothing', async () => {
  const marker = requests.length;
  const missing = path.join(tmp, 'nope.json');
  const run = await iotedge(['deploy', missing, '-H', host]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr, `Could not read deployment manifest ${missing}: no such file\n`);

  const bad = path.join(tmp, 'bad.json');
  writeFileSync(bad, '{\n  "modulesContent": {\n    "password": "SECRET-PASSWORD",\n  }\n}\n');
  const badRun = await iotedge(['deploy', bad, '-H', host]);
  assert.equal(badRun.code, 1);
  assert.equal(
    badRun.stderr,
    `Deployment manifest ${bad} is not valid JSON: expected a property name in double quotes at line 4, column 3\n`,
  );
  noStack(badRun);

  const none = await iotedge(['deploy', '-H', host]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^Missing the deployment manifest/);
  assert.equal(since(marker).length, 0);
});

test('deploy --status prints the reported properties as JSON', async () => {
  const run = await iotedge(['deploy', '--status', '-H', host]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), reported);
});

test('version prints one line and asks the daemon nothing', async () => {
  const marker = requests.length;
  for (const args of [
    ['version', '-H', host],
    ['-H', host, 'version'],
  ]) {
    const run = await iotedge(args);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^iotedge \d+\.\d+\.\d+\S*\n$/);
  }
  assert.equal(since(marker).length, 0);
});

test('-H is global: before or after any subcommand, topics included, and wins over IOTEDGE_HOST', async () => {
  const absent = { IOTEDGE_HOST: `unix://${path.join(tmp, 'absent.sock')}` };
  const logs = await iotedge(['-H', host, 'logs', 'worker'], absent);
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(logs.stdout, 'line one\noops on stderr\nline three\n');
  const identities = await iotedge(['-H', host, 'identity', 'list', '--json'], absent);
  assert.equal(identities.code, 0, identities.stderr);
  assert.equal(JSON.parse(identities.stdout).devices[0].deviceId, 'leaf1');
  const after = await iotedge(['identity', 'list', '--json', `--host=${host}`], absent);
  assert.equal(after.code, 0, after.stderr);
  const status = await iotedge([`-H${host}`, 'system', 'status', '--json'], absent);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).daemon.host, host);
  const restart = await iotedge(['restart', '--host', host, 'worker'], absent);
  assert.equal(restart.code, 0, restart.stderr);
  assert.equal(restart.stdout, 'worker\n');
  const list = await iotedge(['-H', host, 'list'], absent);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^NAME\s+STATUS/);
});

test('-H without a value, or twice, is a usage error before any request', async () => {
  const marker = requests.length;
  const missing = await iotedge(['list', '-H']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, "The argument '--host <HOST>' requires a value but none was supplied\n");
  const twice = await iotedge(['-H', host, 'list', '-H', host]);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /^The argument '--host <HOST>' was provided more than once/);
  assert.equal(since(marker).length, 0);
});

test('every request carried api-version=2020-07-07', () => {
  assert.ok(requests.length > 10);
  for (const request of requests) assert.equal(request.query.get('api-version'), '2020-07-07', request.path);
});

const commands = [
  ['list'],
  ['logs', 'worker'],
  ['restart', 'worker'],
  ['system', 'status'],
  ['deploy', '--status'],
];

test('a daemon that is not running: one line naming the socket, exit 1, for every command', async () => {
  const absent = `unix://${path.join(tmp, 'absent.sock')}`;
  for (const command of commands) {
    const run = await iotedge([...command, '-H', absent]);
    assert.equal(run.code, 1, command.join(' '));
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      `Could not connect to the IoT Edge daemon at ${absent}: no such socket (is iotedged running?)\n`,
      command.join(' '),
    );
  }
});

test('a stale socket with nobody listening is "connection refused"', async () => {
  const staleServer = createServer();
  const live = path.join(tmp, 'live.sock');
  const stale = path.join(tmp, 'stale.sock');
  staleServer.listen(live);
  await once(staleServer, 'listening');
  linkSync(live, stale); // survives the server's unlink on close
  await new Promise((resolve) => staleServer.close(resolve));
  const run = await iotedge(['list', '-H', `unix://${stale}`]);
  assert.equal(run.code, 1);
  assert.equal(
    run.stderr,
    `Could not connect to the IoT Edge daemon at unix://${stale}: connection refused (is iotedged running?)\n`,
  );
});

// As root, the CLI runs as nobody (setpriv) to meet a socket it may not open.
const isRoot = process.getuid?.() === 0;
const canDropRoot = isRoot && spawnSync('setpriv', ['--version']).status === 0;

test(
  'a socket the user may not open says to use sudo',
  { skip: isRoot && !canDropRoot && 'no setpriv' },
  async () => {
    const lockedServer = createServer();
    const locked = path.join(tmp, 'locked.sock');
    lockedServer.listen(locked);
    await once(lockedServer, 'listening');
    chmodSync(locked, isRoot ? 0o600 : 0o000);
    chmodSync(tmp, 0o755);
    try {
      const args = ['list', '-H', `unix://${locked}`];
      const run = isRoot
        ? await iotedge(args, { HOME: tmp }, undefined, [
            'setpriv',
            '--reuid=65534',
            '--regid=65534',
            '--clear-groups',
          ])
        : await iotedge(args);
      assert.equal(run.code, 1);
      assert.equal(
        run.stderr.split('\n').filter((line) => line.startsWith('Could not')).length,
        1,
        run.stderr,
      );
      assert.match(run.stderr, /at unix:\/\/.*locked\.sock: permission denied \(run the command with sudo/);
    } finally {
      chmodSync(tmp, 0o700);
      await new Promise((resolve) => lockedServer.close(resolve));
    }
  },
);

test('an invalid --host or IOTEDGE_HOST is a one-line error', async () => {
  const run = await iotedge(['list', '-H', 'tcp://example']);
  assert.equal(run.code, 1);
  assert.equal(
    run.stderr,
    "Invalid value for --host parameter: 'tcp://example' has the scheme tcp:, which the daemon does not serve. Use unix:///path/to/mgmt.sock (a unix socket) or http://HOST:PORT.\n",
  );
  const fromEnv = await iotedge(['system', 'status'], { IOTEDGE_HOST: '/var/run/iotedge/mgmt.sock' });
  assert.equal(fromEnv.code, 1);
  assert.equal(
    fromEnv.stderr,
    "Invalid value for --host parameter: '/var/run/iotedge/mgmt.sock' is a path without the unix:// scheme (write unix:///var/run/iotedge/mgmt.sock). Use unix:///path/to/mgmt.sock (a unix socket) or http://HOST:PORT.\n",
  );
});
