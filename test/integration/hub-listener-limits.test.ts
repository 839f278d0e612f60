import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, hubPorts, manifest, nodeModule } from '../helpers/daemon.js';
import {
  DEVICE_ID,
  ModuleCredentials,
  connect,
  hubEndpoint,
  subscribeTwinResponses,
  twinAnswered,
  type HubEndpoint,
  type MqttClient,
} from '../helpers/mqtt-client.js';

const HOSTNAME = 'localhost';
/** How long a test waits for the hub to close a connection before calling it left open. */
const CLOSE_BOUND_MS = 15_000;

/** The hub's three listeners on loopback ports the system picks; `good` gives an identity to connect as. */
async function startHub(daemon: TestDaemon): Promise<{
  hub: HubEndpoint;
  ports: { mqtt: number; https: number; metrics: number };
}> {
  await daemon.start();
  const document = manifest({ good: nodeModule('sleeper.js', ['60000']) });
  const agent = document.modulesContent.$edgeAgent['properties.desired'] as {
    systemModules: { edgeHub: { settings: { createOptions: string } } };
  };
  agent.systemModules.edgeHub.settings.createOptions = hubPorts(0, 0, 0);
  const result = await daemon.request('POST', '/deployment', document);
  assert.equal(result.status, 200, result.body);
  const hub = await hubEndpoint(daemon, ['good'], HOSTNAME);
  const status = await daemon.json<{ systemModules: { edgeHub: { statusDescription: string } } }>(
    'GET',
    '/deployment/status',
  );
  const description = status.systemModules.edgeHub.statusDescription;
  const port = (name: string) => Number(new RegExp(`${name} on [\\d.]+:(\\d+)`).exec(description)?.[1]);
  const ports = { mqtt: hub.port, https: port('HTTPS'), metrics: port('metrics') };
  assert.ok(ports.https > 0 && ports.metrics > 0, description);
  return { hub, ports };
}

/** A TCP connection that has been accepted by the kernel and sends nothing. */
function silent(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.removeListener('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves with what the hub sent once it closes `socket`; fails if it is still open after the bound. */
function closedByHub(socket: net.Socket, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(Buffer.concat(chunks));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${what}: still open ${CLOSE_BOUND_MS / 1000} s later`));
    }, CLOSE_BOUND_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** A TLS connection to a hub listener, resolved once the handshake is done. */
function handshake(hub: HubEndpoint, port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hub.host, port, servername: hub.hostname, ca: hub.ca }, () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** The twin of `client`'s identity still comes back: the connection is alive and served. */
async function twinStillServed(client: MqttClient, requestId: string): Promise<void> {
  await twinAnswered(client, requestId);
  assert.ok(client.connected);
}

interface Suite {
  daemon: TestDaemon;
  credentials: ModuleCredentials;
  hub: HubEndpoint;
  ports: { mqtt: number; https: number; metrics: number };
  /** A module client connected from the start, which must stay served. */
  good: MqttClient;
  /** Sockets the tests leave open, closed at the end. */
  held: net.Socket[];
}

/** A daemon with the variables `env`, its hub on all three listeners, and `good` connected. */
function hubSuite(env: Record<string, string>): Suite {
  const daemon = new TestDaemon({}, [], HOSTNAME);
  Object.assign(daemon.env, env);
  const suite = {
    daemon,
    credentials: new ModuleCredentials(daemon, HOSTNAME),
    held: [],
  } as unknown as Suite;
  before(async () => {
    Object.assign(suite, await startHub(daemon));
    suite.good = await connect(suite.hub, suite.credentials.connectFields('good'));
    await subscribeTwinResponses(suite.good);
  });
  after(async () => {
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    suite.good?.end(true);
    for (const socket of suite.held) socket.destroy();
    await daemon.cleanup();
  });
  return suite;
}

describe('hub listeners: a connection has a deadline to get going', () => {
  // for tests: deadlines of a second or two instead of 10 s (handshake) and 60 s (CONNECT)
  const suite = hubSuite({ IOTEDGE_HUB_HANDSHAKE_TIMEOUT_SECS: '1', IOTEDGE_HUB_CONNECT_TIMEOUT_SECS: '2' });
  const { daemon } = suite;

  test('connections that never start a TLS handshake are closed, on every listener; clients connected before stay', async () => {
    const { ports, good } = suite;
    const sockets = await Promise.all(
      Object.values(ports).flatMap((port) => Array.from({ length: 20 }, () => silent(port))),
    );
    // one that trickles a ClientHello a byte at a time: the deadline is not an idle timeout
    const trickler = await silent(ports.mqtt);
    const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
    let sent = 0;
    const trickle = setInterval(() => {
      if (!trickler.destroyed)
        trickler.write(hello.subarray(sent % hello.length, (sent++ % hello.length) + 1));
    }, 200);
    try {
      await Promise.all([
        ...sockets.map((socket, index) => closedByHub(socket, `silent connection ${index}`)),
        closedByHub(trickler, 'the connection trickling a ClientHello'),
      ]);
    } finally {
      clearInterval(trickle);
    }
    assert.ok(sent > 0, 'the trickler sent its bytes');
    await eventually(
      async () =>
        /hub: MQTT: closed \d+ connections? that did not finish the TLS handshake within 1 s/.test(
          daemon.output,
        )
          ? true
          : undefined,
      'the missed deadlines to be logged',
    );
    // connected before all this, and well past the deadline: the handshake ended its deadline
    await twinStillServed(good, 'after-silent');
  });

  test('after the handshake: no MQTT CONNECT, or no HTTP request, closes the connection', async () => {
    const { hub, ports, good } = suite;
    const mqtt = await handshake(hub, ports.mqtt);
    const https = await handshake(hub, ports.https);
    const [mqttBytes, httpsBytes] = await Promise.all([
      closedByHub(mqtt, 'MQTT connection without CONNECT'),
      closedByHub(https, 'HTTPS connection without a request'),
    ]);
    assert.equal(mqttBytes.length, 0);
    assert.equal(httpsBytes.length, 0);
    // a request in time is answered as ever
    const answered = await new Promise<number>((resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port: ports.metrics, path: '/metrics', agent: false },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('error', reject);
      request.end();
    });
    assert.equal(answered, 200);
    await twinStillServed(good, 'after-handshakes');
  });

  test('a slow client that gives up leaves one log line, not a stack trace', async () => {
    const { hub, ports, credentials } = suite;
    const token = credentials.token('good');
    // the HTTPS methods API, and the management API: headers, part of the body, then gone
    const methods = await handshake(hub, ports.https);
    methods.write(
      [
        `POST /twins/${DEVICE_ID}/modules/good/methods?api-version=2018-06-30 HTTP/1.1`,
        'Host: localhost',
        `x-ms-edge-moduleId: ${DEVICE_ID}/good`,
        `Authorization: ${token}`,
        'Content-Type: application/json',
        'Content-Length: 1000',
        '',
        '{"methodName":',
      ].join('\r\n'),
    );
    const management = net.connect(daemon.socket);
    management.on('error', () => undefined);
    management.write(
      [
        'POST /deployment?api-version=2020-07-07 HTTP/1.1',
        'Host: localhost',
        'Content-Type: application/json',
        'Content-Length: 1000',
        '',
        '{"modulesContent":',
      ].join('\r\n'),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    methods.destroy();
    management.destroy();
    await eventually(
      async () =>
        /management API POST \/deployment: the client went away/.test(daemon.output) &&
        /hub HTTPS: POST request failed: aborted/.test(daemon.output)
          ? true
          : undefined,
      'both aborted requests to be logged',
    );
    assert.doesNotMatch(daemon.output, /\n\s+at /, 'no stack trace in the log');
    assert.ok(!daemon.output.includes(token), 'the SAS token is not logged');
    assert.equal(daemon.process?.exitCode, null, 'the daemon is alive');
  });
});

describe('hub listeners: connections beyond a listener’s cap are closed at once', () => {
  const CAPS = { mqtt: 6, https: 4, metrics: 4 };
  const suite = hubSuite({
    IOTEDGE_HUB_MAX_CONNECTIONS: `mqtt=${CAPS.mqtt},https=${CAPS.https},metrics=${CAPS.metrics}`,
    // silent connections must hold their places for as long as the test runs
    IOTEDGE_HUB_HANDSHAKE_TIMEOUT_SECS: '120',
  });
  const { daemon } = suite;

  for (const [listener, name] of [
    ['mqtt', 'MQTT'],
    ['https', 'HTTPS'],
    ['metrics', 'metrics'],
  ] as const) {
    test(`${name}: at the cap, new connections are closed and counted in one log line; the others stay`, async () => {
      const { hub, ports, good, held } = suite;
      const port = ports[listener];
      // the MQTT client `good` holds one of the MQTT listener's places
      const holders: net.Socket[] = [];
      for (let index = listener === 'mqtt' ? 1 : 0; index < CAPS[listener]; index++) {
        holders.push(await silent(port));
      }
      held.push(...holders);
      let holdersClosed = 0;
      for (const socket of holders) socket.once('close', () => holdersClosed++);

      for (let extra = 0; extra < 3; extra++) {
        const bytes = await closedByHub(await silent(port), `connection ${extra + 1} over the cap`);
        assert.equal(bytes.length, 0, 'closed without an answer');
      }
      assert.equal(holdersClosed, 0, 'the connections within the cap are still open');
      await twinStillServed(good, `at-the-${listener}-cap`);
      const lines = await eventually(async () => {
        const found = daemon.output
          .split('\n')
          .filter((line) => line.includes(`hub: ${name}: ${CAPS[listener]} connections open (the limit)`));
        return found.length > 0 ? found : undefined;
      }, 'the refusals to be logged');
      assert.equal(lines.length, 1, `one line for three refusals:\n${lines.join('\n')}`);

      // a place freed is taken again
      holders.pop()!.destroy();
      await eventually(async () => {
        if (listener === 'metrics') {
          const status = await new Promise<number>((resolve, reject) => {
            const request = http.get(
              { host: '127.0.0.1', port, path: '/metrics', agent: false },
              (response) => {
                response.resume();
                resolve(response.statusCode ?? 0);
              },
            );
            request.on('error', reject);
          });
          return status === 200 ? true : undefined;
        }
        const socket = await handshake(hub, port);
        socket.destroy();
        return true;
      }, `a new ${name} connection after one was freed`);
    });
  }
});
