import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  demoConfigText,
  demoDeployment,
  demoLayout,
  demoPorts,
  isLoopback,
} from '../../../src/demo/demo-layout.js';
import { isAlert, machineTemperatureOf, thresholdFrom } from '../../../src/demo/filter/threshold.js';
import {
  DEFAULT_POLICY,
  machinePressure,
  nextMachineTemperature,
  reading,
  sensorSettings,
} from '../../../src/demo/simulated-temperature-sensor/readings.js';
import { parseDeployment } from '../../../src/runtime/deployment/manifest.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

test('the machine warms up about half a degree a reading, wavers once above its maximum', () => {
  assert.equal(
    nextMachineTemperature(21, DEFAULT_POLICY, () => 0),
    20.75,
  );
  assert.equal(
    nextMachineTemperature(21, DEFAULT_POLICY, () => 0.5),
    21.5,
  );
  assert.equal(
    nextMachineTemperature(101, DEFAULT_POLICY, () => 0),
    100.5,
  );
  assert.equal(
    nextMachineTemperature(101, DEFAULT_POLICY, () => 0.99),
    101.49,
  );
  // on average it rises from the minimum past 25 within about ten readings
  let temperature = DEFAULT_POLICY.machineTemperatureMin;
  for (let step = 0; step < 10; step++)
    temperature = nextMachineTemperature(temperature, DEFAULT_POLICY, () => 0.5);
  assert.equal(temperature, 26);
});

test('a reading has the shape of the SimulatedTemperatureSensor module', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const value = reading(60.5, DEFAULT_POLICY, () => 0.5, now);
  assert.deepEqual(Object.keys(value), ['machine', 'ambient', 'timeCreated']);
  assert.deepEqual(value, {
    machine: { temperature: 60.5, pressure: machinePressure(60.5, DEFAULT_POLICY) },
    ambient: { temperature: 21, humidity: 25 },
    timeCreated: '2026-01-01T00:00:00.000Z',
  });
  assert.equal(machinePressure(21, DEFAULT_POLICY), 1);
  assert.equal(machinePressure(100, DEFAULT_POLICY), 10);
});

test('sensor settings: SendInterval seconds and MessageCount, with defaults; bad values named', () => {
  assert.deepEqual(sensorSettings({}), { sendIntervalMs: 5000, messageCount: 500 });
  assert.deepEqual(sensorSettings({ SendInterval: '0.5', MessageCount: '0' }), {
    sendIntervalMs: 500,
    messageCount: undefined,
  });
  assert.throws(
    () => sensorSettings({ SendInterval: 'soon' }),
    /SendInterval: expected a number, got "soon"/,
  );
  assert.throws(() => sensorSettings({ SendInterval: '0' }), /SendInterval: expected seconds above 0/);
  assert.throws(() => sensorSettings({ MessageCount: 'x' }), /MessageCount/);
});

test('the filter threshold comes from desired TemperatureThreshold (number or numeric text)', () => {
  assert.equal(thresholdFrom({ TemperatureThreshold: 30, $version: 2 }), 30);
  assert.equal(thresholdFrom({ TemperatureThreshold: '27.5' }), 27.5);
  assert.equal(thresholdFrom({ TemperatureThreshold: 'warm' }), undefined);
  assert.equal(thresholdFrom({ other: 1 }), undefined);
  assert.equal(thresholdFrom(null), undefined);
});

test('the filter passes readings strictly above the threshold, and nothing that is not a reading', () => {
  const body = (temperature: unknown) => Buffer.from(JSON.stringify({ machine: { temperature } }));
  assert.equal(machineTemperatureOf(body(30)), 30);
  assert.equal(isAlert(body(25.01), 25), true);
  assert.equal(isAlert(body(25), 25), false);
  assert.equal(isAlert(body('hot'), 25), false);
  assert.equal(isAlert(Buffer.from('not json'), 25), false);
  assert.equal(isAlert(Buffer.from('null'), 25), false);
});

test("demo layout: today's directory and ports by default; flags over environment; bad values named", () => {
  assert.deepEqual(demoLayout([], {}), { dir: '/tmp/iotedge-ts-demo', portBase: 18000 });
  assert.deepEqual(demoPorts(18000), { mqtt: 18883, https: 18443, metrics: 19600 });
  assert.deepEqual(demoLayout([], { IOTEDGE_DEMO_DIR: '/tmp/me', IOTEDGE_DEMO_PORT_BASE: '28000' }), {
    dir: '/tmp/me',
    portBase: 28000,
  });
  assert.deepEqual(demoLayout(['--dir', '/tmp/a', '--port-base=30000'], { IOTEDGE_DEMO_DIR: '/tmp/b' }), {
    dir: '/tmp/a',
    portBase: 30000,
  });
  assert.throws(
    () => demoLayout(['--port-base', '80'], {}),
    /--port-base: "80" must be a whole number from 1024/,
  );
  assert.throws(() => demoLayout([], { IOTEDGE_DEMO_PORT_BASE: '64500' }), /IOTEDGE_DEMO_PORT_BASE/);
  assert.throws(() => demoLayout(['--dir', '/tmp/my demo'], {}), /--dir: "\/tmp\/my demo" must be a path/);
  assert.throws(() => demoLayout(['--dir', `/tmp/${'x'.repeat(90)}`], {}), /at most 80 characters/);
  assert.throws(() => demoLayout(['--verbose'], {}), /unknown argument "--verbose"/);
  assert.throws(() => demoLayout(['--dir'], {}), /--dir needs a value/);
});

test('the demo config: the template with the chosen directory, hostname and deployment file', () => {
  const template = readFileSync(path.join(ROOT, 'contrib/config/config.yaml'), 'utf8');
  const text = demoConfigText(template, { dir: '/tmp/other-demo', portBase: 28000 }, 'edge-box');
  assert.match(text, /^hostname: edge-box$/m);
  assert.match(text, /^ {4}LocalConfigPath: \/tmp\/other-demo\/deployment\.json$/m);
  assert.match(text, /management_uri: unix:\/\/\/tmp\/other-demo\/mgmt\.sock/);
  assert.match(text, /^homedir: \/tmp\/other-demo\/home$/m);
  assert.doesNotMatch(text, /iotedge-ts-demo/);
});

test('the demo deployment is valid, routes sensor -> filter -> $upstream, and moves with the port base', () => {
  const template: unknown = JSON.parse(
    readFileSync(path.join(ROOT, 'contrib/config/deployment.json'), 'utf8'),
  );
  const manifest = demoDeployment(template, { dir: '/tmp/d', portBase: 28000 }, '/repo', '127.0.1.1');
  const deployment = parseDeployment(manifest);
  const byName = new Map(deployment.modules.map((module) => [module.name, module]));
  assert.deepEqual([...byName.keys()].sort(), ['SimulatedTemperatureSensor', 'filter']);
  const sensor = byName.get('SimulatedTemperatureSensor')!.settings as { args: string[] };
  assert.deepEqual(sensor.args, ['/repo/dist/src/demo/simulated-temperature-sensor/main.js']);
  const content = (manifest as { modulesContent: Record<string, Record<string, Record<string, unknown>>> })
    .modulesContent;
  const routes = Object.values(content.$edgeHub!['properties.desired']!.routes as Record<string, string>);
  assert.ok(
    routes.some((route) =>
      /SimulatedTemperatureSensor\/outputs\/temperatureOutput INTO BrokeredEndpoint\("\/modules\/filter\/inputs\/input1"\)/.test(
        route,
      ),
    ),
  );
  assert.ok(routes.some((route) => /filter\/outputs\/output1 INTO \$upstream/.test(route)));
  assert.deepEqual(deployment.moduleTwins.filter, { TemperatureThreshold: 22 });
  const hubSettings = deployment.systemModules.edgeHub.settings;
  assert.ok('createOptions' in hubSettings);
  const bindings = (hubSettings.createOptions as { HostConfig: { PortBindings: Record<string, unknown> } })
    .HostConfig.PortBindings;
  assert.deepEqual(bindings['8883/tcp'], [{ HostIp: '127.0.1.1', HostPort: '28883' }]);
  assert.deepEqual(bindings['443/tcp'], [{ HostIp: '127.0.1.1', HostPort: '28443' }]);
  assert.deepEqual(bindings['9600/tcp'], [{ HostIp: '127.0.1.1', HostPort: '29600' }]);
  // the template itself is untouched
  assert.match(JSON.stringify(template), /"dist\/src\/demo\/filter\/main\.js"/);
});

test('loopback addresses', () => {
  assert.equal(isLoopback('127.0.0.1'), true);
  assert.equal(isLoopback('127.0.1.1'), true);
  assert.equal(isLoopback('::1'), true);
  assert.equal(isLoopback('10.0.0.2'), false);
});
