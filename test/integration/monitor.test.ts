import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '../helpers/daemon.js';
import { assertDemoAlerts, DemoRun, freePortBase, monitorJsonLines, run } from '../helpers/demo-run.js';
import { tempDirs } from '../helpers/temp-dirs.js';

// The demo (sensor -> filter -> $upstream, real SDK modules as processes) from this checkout, watched
// with `iotedge monitor` as a user would.
const tempDir = tempDirs('iotedge-monitor-');
let demo: DemoRun;

before(async () => {
  demo = new DemoRun(ROOT, await tempDir(), await freePortBase());
  await demo.start();
});

after(async () => {
  if (demo) await demo.stop();
});

test("--json --count 3: three JSON lines of the filter's alerts as $upstream gets them", async (t) => {
  const started = Date.now();
  const result = await demo.monitor(['--json', '--count', '3']);
  t.diagnostic(`three alerts seen ${Date.now() - started} ms after the daemon answered`);
  assert.equal(result.code, 0, result.stderr);
  for (const line of assertDemoAlerts(result.stdout, 3)) {
    assert.match(line.properties.application.sequenceNumber ?? '', /^\d+$/);
    assert.equal(line.properties.system.contentType, 'application/json');
    const body = line.body as {
      machine: { temperature: number; pressure: number };
      ambient: object;
      timeCreated: string;
    };
    assert.deepEqual(Object.keys(body), ['machine', 'ambient', 'timeCreated']);
    assert.ok(body.machine.temperature > 22, `alert at ${body.machine.temperature}`);
  }
});

test('--input filter/input1 --module SimulatedTemperatureSensor: the readings the filter receives', async () => {
  const result = await demo.monitor([
    '--input',
    'filter/input1',
    '--module',
    'SimulatedTemperatureSensor',
    '--json',
    '-n',
    '2',
  ]);
  assert.equal(result.code, 0, result.stderr);
  const lines = monitorJsonLines(result.stdout);
  assert.equal(lines.length, 2);
  for (const line of lines) {
    assert.equal(line.endpoint, 'demo-device/filter/inputs/input1');
    assert.equal(line.origin.moduleId, 'SimulatedTemperatureSensor');
    assert.equal(line.origin.outputName, 'temperatureOutput');
    assert.equal(line.properties.application.MessageType, undefined);
  }
  assert.ok(
    Number(lines[1]!.properties.application.sequenceNumber) >
      Number(lines[0]!.properties.application.sequenceNumber),
  );
});

test('text output names origin, output and endpoint, then properties and body', async () => {
  const result = await demo.monitor(['--count', '1']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^\[[0-9T:.Z-]+\] demo-device\/filter \(output output1\) -> \$upstream\n/);
  assert.match(result.stdout, /\n {2}application properties: .*MessageType=Alert/);
  assert.match(result.stdout, /\n {2}body: \{"machine":\{"temperature":/);
});

test('--timeout: a filter nothing matches ends after the quiet seconds, exit 0; with --count unmet, exit 1', async () => {
  const quiet = await demo.monitor(['--module', 'SimulatedTemperatureSensor', '--timeout', '2', '--json']);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stdout, '');
  const unmet = await demo.monitor(['--device', 'some-other-device', '--timeout', '2', '--count', '1']);
  assert.equal(unmet.code, 1);
  assert.equal(unmet.stdout, '');
  assert.match(unmet.stderr, /^Only 0 of 1 messages arrived before 2 seconds passed without one\n$/);
  // with --json the same failure follows the JSON error convention
  const unmetJson = await demo.monitor([
    '--device',
    'some-other-device',
    '--timeout',
    '1',
    '--count',
    '1',
    '--json',
  ]);
  assert.equal(unmetJson.code, 1);
  assert.equal(unmetJson.stdout, '');
  assert.deepEqual(JSON.parse(unmetJson.stderr), {
    error: { message: 'Only 0 of 1 messages arrived before 1 second passed without one', exitCode: 1 },
  });
});

test('a bad --input is named, before any request; no stack trace', async () => {
  const result = await demo.monitor(['--input', 'filter']);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, '--input: expected MODULE/INPUT (e.g. filter/input1), got "filter"\n');
});

test('a new TemperatureThreshold reaches the filter live: above every reading, no alert reaches $upstream', async () => {
  const manifestFile = path.join(demo.dir, 'hot.json');
  const manifest = JSON.parse(
    await (await import('node:fs/promises')).readFile(path.join(demo.dir, 'deployment.json'), 'utf8'),
  ) as { modulesContent: Record<string, unknown> };
  manifest.modulesContent.filter = { 'properties.desired': { TemperatureThreshold: 1000 } };
  await writeFile(manifestFile, JSON.stringify(manifest));
  const deployed = await demo.cli(['deploy', manifestFile]);
  assert.equal(deployed.code, 0, deployed.stderr);
  // the patch is applied by the module a moment later: wait for a quiet spell of 3 s
  let quiet = await demo.monitor(['--timeout', '3', '--json'], 20_000);
  for (let attempt = 0; attempt < 5 && quiet.code === null; attempt++)
    quiet = await demo.monitor(['--timeout', '3', '--json'], 20_000);
  assert.equal(quiet.code, 0, `alerts kept coming: ${quiet.stdout.slice(0, 500)}`);
  const logs = await demo.cli(['logs', 'filter']);
  assert.match(logs.stdout, /temperature threshold: 1000/);
});

test('a following monitor stops on SIGTERM with exit 0; the daemon stops on SIGTERM with exit 0', async () => {
  const { spawn } = await import('node:child_process');
  const follower = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/run.js'), '-H', demo.host, 'monitor', '--json'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  follower.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  follower.kill('SIGTERM');
  const code = await new Promise((resolve) => follower.once('exit', resolve));
  assert.equal(code, 0);
  assert.ok(stdout.split('\n').every((line) => line === '' || JSON.parse(line)));
  const stopped = await demo.stop();
  assert.deepEqual(stopped, { code: 0, signal: null }, demo.output.slice(-2000));
  // nothing left serving: the CLI says so plainly
  const after = await run(process.execPath, [path.join(ROOT, 'bin/run.js'), '-H', demo.host, 'monitor']);
  assert.equal(after.code, 1);
  assert.match(after.stderr, /Could not connect to the IoT Edge daemon/);
});
