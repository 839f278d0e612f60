import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { parseEdgeHubDesired } from '../../src/runtime/deployment/edgehub-desired.js';
import { SqliteMessageStores } from '../../src/runtime/hub/endpoints/sqlite/sqlite-stores.js';
import { EdgeHub } from '../../src/runtime/hub/hub.js';
import { HubRequestError } from '../../src/runtime/hub/hub-request-error.js';
import { IdentityRegistry } from '../../src/runtime/hub/identities.js';
import type { ClientProxy } from '../../src/runtime/hub/session/client-proxy.js';
import { deriveModuleKey } from '../../src/runtime/identity/module-keys.js';
import { buildSasToken } from '../../src/runtime/identity/sas.js';
import { telemetrySource, type HubMessage } from '../../src/runtime/routing/message.js';

/*
 * The hub core over the SQLite stores, driven in-process through its session API with a fake
 * receiving client: what one hub held, the next one (same file) delivers.
 */

const DEVICE = 'edge-1';
const HUB_HOST = 'hub.example.net';
const DEVICE_KEY = Buffer.alloc(32, 7).toString('base64');
const GENERATIONS: Record<string, string> = { sender: '638000000000000001', receiver: '638000000000000002' };

function newHub(
  stores: SqliteMessageStores,
  deploy: boolean,
  storeLimits?: Record<string, unknown>,
): EdgeHub {
  const identities = new IdentityRegistry({
    deviceId: DEVICE,
    iothubHostname: HUB_HOST,
    edgeHostname: 'gateway.local',
    deviceKey: DEVICE_KEY,
    generationId: async (module) => GENERATIONS[module],
    now: () => new Date(),
  });
  const hub = new EdgeHub({ identities, stores, log: () => undefined });
  if (deploy) {
    const desired = parseEdgeHubDesired({
      schemaVersion: '1.1',
      routes: {
        toReceiver: 'FROM /messages/modules/sender/* INTO BrokeredEndpoint("/modules/receiver/inputs/in1")',
      },
      storeAndForwardConfiguration: { timeToLiveSecs: 7200, ...(storeLimits ? { storeLimits } : {}) },
    });
    hub.applyDeployment(desired, {});
  }
  return hub;
}

async function session(hub: EdgeHub, module: string) {
  const sas = buildSasToken({
    audience: `${HUB_HOST}/devices/${DEVICE}/modules/${module}`,
    key: deriveModuleKey(DEVICE_KEY, module, 'primary', GENERATIONS[module]!),
    expiry: Math.floor(Date.now() / 1000) + 3600,
  });
  const auth = await hub.authenticate(DEVICE, module, { sas });
  assert.ok(auth.ok);
  return hub.openSession(auth.identity, { sessionId: auth.identity.id, clean: true });
}

const message = (text: string): HubMessage => ({
  body: Buffer.from(text),
  properties: { kind: 'test' },
  systemProperties: { connectionDeviceId: DEVICE, connectionModuleId: 'sender', outputName: 'out1' },
  source: telemetrySource('sender', 'out1'),
});

/** A receiver that acknowledges every input at once and records the bodies. */
function receiver(received: string[]): ClientProxy {
  return {
    deliverInput: async (_input, m) => void received.push(m.body.toString()),
    deliverC2D: () => Promise.reject(new Error('no')),
    sendDesiredPatch: () => undefined,
    sendMethodRequest: () => undefined,
    close: () => undefined,
  };
}

test('a module input holding messages exists again in the next hub over the same file and delivers them', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-durable-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'messages.db');

  const stores = new SqliteMessageStores({ file });
  const first = newHub(stores, true);
  const sender = await session(first, 'sender');
  for (const text of ['one', 'two', 'three']) await sender.send(message(text));
  assert.deepEqual(
    first.endpoints().map((e) => [e.id, e.pending]),
    [
      ['$upstream', 0],
      [`${DEVICE}/receiver/inputs/in1`, 3],
    ],
  );
  first.close();
  stores.close();

  const reopened = new SqliteMessageStores({ file });
  t.after(() => reopened.close());
  // no deployment yet: the endpoint comes from the store alone
  const second = newHub(reopened, false);
  t.after(() => second.close());
  assert.equal(second.endpoints().find((e) => e.id === `${DEVICE}/receiver/inputs/in1`)?.pending, 3);
  const received: string[] = [];
  const inbox = await session(second, 'receiver');
  inbox.attach(receiver(received));
  assert.equal(await inbox.subscribe('inputs'), true);
  for (let i = 0; i < 100 && received.length < 3; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(received, ['one', 'two', 'three']);
});

test('a full store refuses the message to its sender with a 503 that says so', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-durable-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stores = new SqliteMessageStores({ file: path.join(dir, 'messages.db') });
  t.after(() => stores.close());
  const hub = newHub(stores, true, { maxSizeBytes: 400, fullPolicy: 'refuse' });
  t.after(() => hub.close());
  const sender = await session(hub, 'sender');
  let accepted = 0;
  let refusal: unknown;
  for (let n = 0; n < 10 && refusal === undefined; n++) {
    try {
      await sender.send(message('x'.repeat(50)));
      accepted++;
    } catch (error) {
      refusal = error;
    }
  }
  assert.ok(refusal instanceof HubRequestError, String(refusal));
  assert.equal(refusal.status, 503);
  assert.match(refusal.message, /^the message store is full \(\d+ of its 400 bytes held\)/);
  assert.ok(accepted >= 1 && accepted < 10);
  assert.equal(hub.endpoints().find((e) => e.id.endsWith('in1'))?.pending, accepted);
});
