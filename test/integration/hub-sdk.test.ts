import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, hubPorts, manifest, nodeModule } from '../helpers/daemon.js';

/** The deployment of this test: two SDK modules, a route between them, the receiver's desired properties. */
function deployment(desired: Record<string, unknown>) {
  const document = manifest({
    receiver: nodeModule('sdk-module.js', ['receiver']),
    sender: nodeModule('sdk-module.js', ['sender', '5', 'receiver'], { startupOrder: 1 }),
  });
  const agent = document.modulesContent.$edgeAgent['properties.desired'] as {
    systemModules: { edgeHub: { settings: { createOptions: string } } };
  };
  // IoT Hub's own ports, on loopback: the SDK's invokeMethod always calls https://{gateway}:443 and
  // breaks on a gateway name with a port, so MQTT must be on 8883 for it to work
  agent.systemModules.edgeHub.settings.createOptions = hubPorts(8883, 443, 0);
  return {
    modulesContent: {
      ...document.modulesContent,
      $edgeHub: {
        'properties.desired': {
          schemaVersion: '1.1',
          routes: {
            warm: 'FROM /messages/modules/sender/outputs/out1 WHERE $body.temperature > 21 INTO BrokeredEndpoint("/modules/receiver/inputs/in1")',
            all: 'FROM /messages/* INTO $upstream',
          },
          storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
        },
      },
      receiver: { 'properties.desired': desired },
    },
  };
}

describe('modules written with the Azure IoT device SDK talk through the hub', () => {
  const daemon = new TestDaemon({}, [], 'localhost');
  const logs = (module: string) => daemon.cli(['logs', module]).stdout;
  const logged = (module: string, text: string | RegExp) =>
    eventually(
      async () => {
        const output = logs(module);
        return (typeof text === 'string' ? output.includes(text) : text.test(output)) ? output : undefined;
      },
      `${module} to log ${text}`,
      30_000,
    );

  before(async () => {
    await daemon.start();
  });
  after(async () => {
    if (process.env.DEBUG_DAEMON) console.log(daemon.output, logs('sender'), logs('receiver'));
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await daemon.cleanup();
  });

  test('output → route with a $body condition → input; twin; direct method between modules', async () => {
    const result = await daemon.request('POST', '/deployment', deployment({ threshold: 5 }));
    assert.equal(result.status, 200, result.body);

    const received = await logged('receiver', 'seq=4');
    const inputs = received.split('\n').filter((line) => line.startsWith('input '));
    assert.deepEqual(
      inputs.map((line) => line.split(' body=')[0]),
      ['input in1 seq=2', 'input in1 seq=3', 'input in1 seq=4'],
      `only messages the condition lets through arrive, in order; the sender said:\n${logs('sender')}`,
    );
    assert.match(inputs[0]!, /body=\{"seq":2,"temperature":22\}/);

    await logged('receiver', 'reported');
    const desired = /^desired (.*)$/m.exec(logs('receiver'))?.[1];
    assert.equal(JSON.parse(desired ?? '{}').threshold, 5);

    const sender = await logged('sender', 'invoked');
    assert.match(sender, /sent 5/);
    assert.match(
      sender,
      /invoked \{"status":200,"payload":\{"pong":\{"hello":"there"\},"from":"receiver"\}\}/,
    );
    assert.match(logs('receiver'), /method ping \{"hello":"there"\}/);
  });

  test('iotedge invoke calls a module method through the hub', () => {
    const ok = daemon.cli(['invoke', 'receiver', 'ping', '--payload', '{"a":1}', '--timeout', '10']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { status: 200, payload: { pong: { a: 1 }, from: 'receiver' } });
    const absent = daemon.cli(['invoke', 'nobody', 'ping']);
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /edge-1\/nobody is not connected or not listening for methods/);
    const bad = daemon.cli(['invoke', 'receiver', 'ping', '--payload', '{nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--payload: not valid JSON/);
  });

  test('a new deployment changes desired properties; the module hears at once', async () => {
    const result = await daemon.request('POST', '/deployment', deployment({ threshold: 7 }));
    assert.equal(result.status, 200, result.body);
    await logged('receiver', /desired \{"threshold":7,"\$version":\d+\}/);
  });

  test('edgeHub is reported running, with its ports, and serves Prometheus metrics', async () => {
    const status = await daemon.json<{
      systemModules: { edgeHub: { runtimeStatus: string; statusDescription: string } };
    }>('GET', '/deployment/status');
    assert.equal(status.systemModules.edgeHub.runtimeStatus, 'running');
    const metricsPort = /metrics on 127\.0\.0\.1:(\d+)/.exec(
      status.systemModules.edgeHub.statusDescription,
    )?.[1];
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const sample = (name: string, labels: RegExp) =>
      Number(
        metrics
          .split('\n')
          .find((line) => line.startsWith(name) && labels.test(line))
          ?.split(' ')
          .pop(),
      );
    assert.ok(sample('edgehub_messages_received_total', /route_output="out1",id="edge-1\/sender"/) >= 5);
    assert.ok(
      sample(
        'edgehub_messages_sent_total',
        /to="edge-1\/receiver",from_route_output="out1",to_route_input="in1"/,
      ) >= 3,
    );
    assert.equal(sample('edgehub_connected_clients', /edge_device="edge-1"/), 2);
    assert.match(metrics, /edgehub_gettwin_total\{source="client",id="edge-1\/receiver"/);
    assert.match(
      status.systemModules.edgeHub.statusDescription,
      /MQTT on 127\.0\.0\.1:8883, HTTPS on 127\.0\.0\.1:443/,
    );
  });

  test('iotedge deploy --status --hub prints the $edgeHub reported properties: routes and clients', () => {
    const printed = daemon.cli(['deploy', '--status', '--hub']);
    assert.equal(printed.code, 0, printed.stderr);
    const reported = JSON.parse(printed.stdout) as {
      lastDesiredStatus: { code: number };
      lastDesiredVersion: number;
      version: { version: string };
      routes: Record<string, string>;
      clients: Record<string, { status: string; lastConnectedTimeUtc: string }>;
    };
    assert.equal(reported.lastDesiredStatus.code, 200);
    assert.equal(reported.lastDesiredVersion, 2, 'two deployments were applied since the daemon started');
    assert.match(reported.version.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(Object.keys(reported.routes).sort(), ['all', 'warm']);
    for (const id of ['edge-1/sender', 'edge-1/receiver']) {
      assert.equal(reported.clients[id]?.status, 'Connected', id);
      assert.ok(!Number.isNaN(Date.parse(reported.clients[id]!.lastConnectedTimeUtc)), id);
    }
    const without = daemon.cli(['deploy', '--hub']);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /All of the following must be provided when using --hub: --status/);
  });

  test('after the hub restarts, the SDK reconnects and its persistent session still gets desired updates', async () => {
    await daemon.signal('SIGKILL');
    await daemon.start();
    // the receiver never subscribes again to desired updates after a reconnect (node-sdk.md §5.7):
    // only the session the hub kept makes this patch reach it
    const result = await daemon.request('POST', '/deployment', deployment({ threshold: 9 }));
    assert.equal(result.status, 200, result.body);
    await logged('receiver', /desired \{"threshold":9,"\$version":\d+\}/);
  });
});
