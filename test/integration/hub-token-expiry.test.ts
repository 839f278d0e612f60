import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, manifest, nodeModule } from '../helpers/daemon.js';
import {
  DEVICE_ID,
  IOTHUB_HOSTNAME,
  ModuleCredentials,
  connect,
  end,
  hubEndpoint,
  subscribeTwinResponses,
  twinAnswered,
  type HubEndpoint,
} from '../helpers/mqtt-client.js';

const HOSTNAME = 'localhost';
const MODULES = ['expirer', 'renewer', 'sdk'];
/** How long after its token's expiry a connection may still be seen open before the test fails. */
const CLOSE_BOUND_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The subset of azure-iot-device (no typings here) this test uses. */
interface SdkModuleClient {
  setOptions(options: Record<string, unknown>): Promise<unknown>;
  open(): Promise<unknown>;
  close(): Promise<unknown>;
  getTwin(): Promise<{ properties: { desired: Record<string, unknown> } }>;
  sendEvent(message: unknown): Promise<unknown>;
}
const require = createRequire(import.meta.url);
const { ModuleClient, Message } = require('azure-iot-device') as {
  ModuleClient: { fromConnectionString(text: string, transport: unknown): SdkModuleClient };
  Message: new (body: string) => unknown;
};
const { Mqtt } = require('azure-iot-device-mqtt') as { Mqtt: unknown };

describe('a connection opened with a SAS token ends when the token expires', () => {
  const daemon = new TestDaemon({}, [], HOSTNAME);
  const credentials = new ModuleCredentials(daemon, HOSTNAME);
  let hub: HubEndpoint;

  before(async () => {
    await daemon.start();
    const result = await daemon.request(
      'POST',
      '/deployment',
      manifest(Object.fromEntries(MODULES.map((name) => [name, nodeModule('sleeper.js', ['60000'])]))),
    );
    assert.equal(result.status, 200, result.body);
    hub = await hubEndpoint(daemon, MODULES, HOSTNAME);
  });
  after(async () => {
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    await daemon.cleanup();
  });

  test('the hub closes the connection at expiry, not before', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 3;
    const token = credentials.token('expirer', { expiry });
    const client = await connect(hub, { ...credentials.connectFields('expirer'), password: token });
    await subscribeTwinResponses(client);
    await twinAnswered(client, 'before-expiry');
    const closedAt = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          client.end(true);
          reject(new Error(`still connected ${CLOSE_BOUND_MS / 1000} s after its token expired`));
        },
        expiry * 1000 - Date.now() + CLOSE_BOUND_MS,
      );
      client.once('close', () => {
        clearTimeout(timer);
        resolve(Date.now());
      });
    });
    client.end(true);
    assert.ok(closedAt >= expiry * 1000, `closed ${expiry * 1000 - closedAt} ms before the token expired`);
    const line = daemon.output.split('\n').find((text) => text.includes('edge-1/expirer: SAS token expired'));
    assert.ok(line, daemon.output);
    assert.match(line, new RegExp(`expired at ${new Date(expiry * 1000).toISOString()}: disconnected`));
    assert.ok(!daemon.output.includes(token), 'the token is not logged');
  });

  test('a client that reconnects with a new token before expiry, as the SDKs do, keeps working', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 3;
    const fields = { ...credentials.connectFields('renewer'), clean: false };
    const first = await connect(hub, { ...fields, password: credentials.token('renewer', { expiry }) });
    await subscribeTwinResponses(first);
    await twinAnswered(first, 'first');
    // the SDK's renewal: DISCONNECT, then CONNECT with a fresh token (persistent session, no SUBSCRIBE)
    await end(first);
    const renewed = await connect(hub, { ...fields, password: credentials.token('renewer') });
    let closed = false;
    renewed.on('close', () => (closed = true));
    await sleep(expiry * 1000 - Date.now() + 1500);
    assert.equal(closed, false, 'the renewed connection outlived the first token');
    await twinAnswered(renewed, 'after-the-first-token-expired');
    await end(renewed);
    assert.doesNotMatch(daemon.output, /edge-1\/renewer: SAS token expired/);
  });

  test('an SDK client renewing its token every 3 s is never cut off', async () => {
    const connectionString =
      `HostName=${IOTHUB_HOSTNAME};DeviceId=${DEVICE_ID};ModuleId=sdk;` +
      `SharedAccessKey=${credentials.key('sdk')};GatewayHostName=${HOSTNAME}:${hub.port}`;
    const client = ModuleClient.fromConnectionString(connectionString, Mqtt);
    // tokens valid 6 s, renewed 3 s before they expire
    await client.setOptions({
      ca: hub.ca,
      tokenRenewal: { tokenValidTimeInSeconds: 6, tokenRenewalMarginInSeconds: 3 },
    });
    try {
      await client.open();
      await sleep(8_000);
      await client.sendEvent(new Message('still here'));
      const document = await client.getTwin();
      assert.ok(document.properties.desired, 'the twin after two renewals');
    } finally {
      await client.close();
    }
    assert.match(daemon.output, /edge-1\/sdk connected/);
    assert.doesNotMatch(daemon.output, /edge-1\/sdk: SAS token expired/);
  });
});
