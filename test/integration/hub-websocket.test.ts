import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';

import { WebSocket } from 'ws';

import { TestDaemon, eventually, hubListening, hubPorts, manifest } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import { LeafDevice, expectRebootAnswered } from '../helpers/leaf-device.js';
import { holdTestLock } from '../helpers/test-lock.js';

const UPGRADE_HEADERS =
  'Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

describe('MQTT and AMQP over WebSockets on the HTTPS port: what it refuses', () => {
  const daemon = new TestDaemon({}, [], 'localhost');
  // the SDK's WebSocket transports always dial port 443 of the gateway
  const httpsPort = 443;
  let ca: Buffer;
  let releasePorts: (() => Promise<void>) | undefined;
  const leaves: LeafDevice[] = [];

  /** The status line the hub answers a raw upgrade request with. */
  const upgradeStatus = async (target: string, protocols: string | undefined) => {
    const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, ca, servername: 'localhost' });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    socket.write(
      `GET ${target} HTTP/1.1\r\n${UPGRADE_HEADERS}` +
        (protocols === undefined ? '' : `Sec-WebSocket-Protocol: ${protocols}\r\n`) +
        '\r\n',
    );
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    await new Promise((resolve) => socket.once('close', resolve));
    return text.split('\r\n')[0];
  };
  const webSocket = (protocol: string) =>
    new WebSocket(`wss://127.0.0.1:${httpsPort}/$iothub/websocket`, protocol, {
      ca,
      servername: 'localhost',
    });
  const opened = (socket: WebSocket) =>
    new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
  const closed = (socket: WebSocket) =>
    new Promise<number>((resolve) => {
      socket.on('error', () => undefined);
      socket.once('close', (code: number) => resolve(code));
    });
  /** An HTTPS API request still gets its answer (an unknown module's method: 404). */
  const httpsAnswers = async () => {
    const response = await new Promise<number>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: httpsPort, ca, servername: 'localhost' }, () =>
        socket.write(
          'POST /twins/edge-1/modules/nobody/methods?api-version=2020-09-30 HTTP/1.1\r\nHost: localhost\r\n' +
            'Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
        ),
      );
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', reject);
      socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1])));
    });
    assert.ok(response >= 200 && response < 600, `the HTTPS API answered (${response})`);
  };

  before(async () => {
    const mqttPort = await freePort();
    releasePorts = await holdTestLock('iothub-ports');
    await daemon.start();
    ca = readFileSync(path.join(daemon.homedir, 'hsm', 'certs', 'edge_owner_ca.cert.pem'));
    const document = manifest({});
    const agent = document.modulesContent.$edgeAgent['properties.desired'] as {
      systemModules: { edgeHub: { settings: { createOptions: string } } };
    };
    agent.systemModules.edgeHub.settings.createOptions = hubPorts(mqttPort, httpsPort);
    const result = await daemon.request('POST', '/deployment', document);
    assert.equal(result.status, 200, result.body);
    await hubListening(
      daemon,
      new RegExp(`HTTPS on 127\\.0\\.0\\.1:${httpsPort}`),
      'the HTTPS head to listen',
    );
  });
  after(async () => {
    await Promise.all(leaves.map((device) => device.stop()));
    if (process.env.DEBUG_DAEMON)
      console.log(
        daemon.output,
        leaves.map((device) => device.output),
      );
    await daemon.cleanup();
    await releasePorts?.();
  });

  test('another path is 404, an unknown or missing subprotocol 400; the HTTPS API keeps working', async () => {
    assert.equal(await upgradeStatus('/mqtt', 'mqtt'), 'HTTP/1.1 404 Not Found');
    assert.equal(await upgradeStatus('/$iothub/websocket', 'chat'), 'HTTP/1.1 400 Bad Request');
    assert.equal(await upgradeStatus('/$iothub/websocket', undefined), 'HTTP/1.1 400 Bad Request');
    await httpsAnswers();
    assert.match(daemon.output, /WebSocket upgrade refused \(404\): no WebSocket endpoint at "\/mqtt"/);
  });

  test('garbage over MQTT, a huge frame over AMQP, an upgrade flood: refused; a good connection stays', async () => {
    const healthy = webSocket('mqtt');
    await opened(healthy);
    assert.equal(healthy.protocol, 'mqtt');
    let healthyClosed = false;
    healthy.once('close', () => (healthyClosed = true));

    const garbage = webSocket('mqtt');
    await opened(garbage);
    const garbageClosed = closed(garbage);
    garbage.send(Buffer.from('\xff\xff\xff\xff\xffnot mqtt at all', 'latin1'));
    await garbageClosed;

    const huge = webSocket('AMQPWSB10');
    await opened(huge);
    assert.equal(huge.protocol, 'AMQPWSB10');
    const hugeClosed = closed(huge);
    huge.send(Buffer.alloc(4 * 1024 * 1024, 0x41));
    assert.equal(await hugeClosed, 1009, 'closed as too big');

    const flood = await Promise.all(
      Array.from({ length: 40 }, (_, i) => upgradeStatus(i % 2 ? '/nowhere' : '/$iothub/websocket', 'x')),
    );
    assert.ok(
      flood.every((line) => /^HTTP\/1\.1 40[04] /.test(line ?? '')),
      flood.join('; '),
    );

    await httpsAnswers();
    assert.equal(healthyClosed, false, 'the good connection is still open');
    healthy.terminate();
  });

  for (const transport of ['mqttws', 'amqpws'] as const) {
    test(`a leaf device with the SDK over ${transport} sends telemetry, answers a method, completes C2D`, async () => {
      const id = `leaf-${transport}`;
      const added = daemon.cli(['identity', 'add', id, '--json']);
      assert.equal(added.code, 0, added.stderr);
      const key = (JSON.parse(added.stdout) as { primaryKey: string }).primaryKey;
      const caFile = path.join(daemon.homedir, 'hsm', 'certs', 'edge_owner_ca.cert.pem');
      const connectionString = `HostName=hub.example.net;DeviceId=${id};SharedAccessKey=${key};GatewayHostName=localhost`;
      const device = new LeafDevice(connectionString, caFile, 3, undefined, transport);
      leaves.push(device);
      await device.said('sent 3');

      expectRebootAnswered(daemon, id);
      await device.said('method reboot {"in":5}');

      const sent = await eventually(async () => {
        const run = daemon.cli(['send', id, 'hello leaf', '--correlation-id', 'c-9']);
        return run.code === 0 ? run : undefined;
      }, `${id} to listen for cloud-to-device messages`);
      const { messageId } = JSON.parse(sent.stdout) as { messageId: string };
      await device.said(`c2d hello leaf id=${messageId} cid=c-9`);
      await device.stop();
    });
  }
});
