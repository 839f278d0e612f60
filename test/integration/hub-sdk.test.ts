import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, manifest, nodeModule } from '../helpers/daemon.js';
import { holdTestLock } from '../helpers/test-lock.js';
import {
  expectSdkExchange,
  moduleLogs,
  sdkDeployment,
  type SdkTransport,
} from '../helpers/sdk-deployment.js';

/** The same scenario for each of the SDK's transports the hub speaks. */
for (const transport of ['mqtt', 'amqp', 'mqttws', 'amqpws'] as const) sdkScenario(transport);

function sdkScenario(transport: SdkTransport) {
  /** The deployment of this test: two SDK modules as processes. */
  const deployment = (desired: Record<string, unknown>) =>
    sdkDeployment(
      {
        receiver: nodeModule('sdk-module.js', [transport, 'receiver']),
        sender: nodeModule('sdk-module.js', [transport, 'sender', '5', 'receiver'], { startupOrder: 1 }),
      },
      desired,
      transport,
    );

  describe(`modules written with the Azure IoT device SDK talk through the hub (${transport})`, () => {
    const daemon = new TestDaemon({}, [], 'localhost');
    const { logs, logged } = moduleLogs(daemon);

    let releasePorts: (() => Promise<void>) | undefined;

    before(async () => {
      releasePorts = await holdTestLock('iothub-ports');
      await daemon.start();
    });
    after(async () => {
      if (process.env.DEBUG_DAEMON) console.log(daemon.output, logs('sender'), logs('receiver'));
      await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
      await daemon.cleanup();
      await releasePorts?.();
    });

    test('output → route with a $body condition → input; twin; direct method between modules', async () => {
      const result = await daemon.request('POST', '/deployment', deployment({ threshold: 5 }));
      assert.equal(result.status, 200, result.body);

      await expectSdkExchange(daemon);
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
        {
          mqtt: /MQTT on 127\.0\.0\.1:8883, HTTPS on 127\.0\.0\.1:443/,
          amqp: /MQTT on 127\.0\.0\.1:8883, AMQP on 127\.0\.0\.1:5671, HTTPS on 127\.0\.0\.1:443/,
          // no 5671: AmqpWs reaches the hub through 443 only (MqttWs always dials 443 too)
          mqttws: /MQTT on 127\.0\.0\.1:8883, HTTPS on 127\.0\.0\.1:443/,
          amqpws: /MQTT on 127\.0\.0\.1:8883, HTTPS on 127\.0\.0\.1:443/,
        }[transport],
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

    test(
      'after the hub restarts, the SDK reconnects and its persistent session still gets desired updates',
      // AMQP has no persistent session: IoT Hub's AMQP clients miss what changed while away
      { skip: transport.startsWith('amqp') && 'MQTT persistent sessions only' },
      async () => {
        await daemon.signal('SIGKILL');
        await daemon.start();
        // the Node SDK never subscribes again to desired updates after a reconnect:
        // only the session the hub kept makes this patch reach it
        const result = await daemon.request('POST', '/deployment', deployment({ threshold: 9 }));
        assert.equal(result.status, 200, result.body);
        await logged('receiver', /desired \{"threshold":9,"\$version":\d+\}/);
      },
    );
  });
}
