import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { workloadDirectory } from '../../src/runtime/workload/socket-layout.js';
import { TestDaemon, eventually, manifest, nodeModule } from '../helpers/daemon.js';
import {
  ModuleCredentials,
  closed,
  connackCode,
  connect,
  end,
  generationIds,
  hubEndpoint,
  type HubEndpoint,
} from '../helpers/mqtt-client.js';

const HOSTNAME = 'localhost';
const deployment = (modules: string[]) =>
  manifest(Object.fromEntries(modules.map((name) => [name, nodeModule('sleeper.js', ['60000'])])));

describe('a module removed from the deployment loses its credentials at once', () => {
  const daemon = new TestDaemon({}, [], HOSTNAME);
  const credentials = new ModuleCredentials(daemon, HOSTNAME);
  let endpoint: HubEndpoint;

  before(async () => {
    await daemon.start();
    const result = await daemon.request('POST', '/deployment', deployment(['staying', 'leaving']));
    assert.equal(result.status, 200, result.body);
    endpoint = await hubEndpoint(daemon, ['staying', 'leaving'], HOSTNAME);
  });
  after(async () => {
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await daemon.cleanup();
  });

  test('its connection closes, its token and socket stop working; it comes back with a new identity', async () => {
    const leavingFields = credentials.connectFields('leaving');
    const oldGeneration = generationIds(daemon).leaving;
    const client = await connect(endpoint, leavingFields);
    const disconnected = closed(client);

    const result = await daemon.request('POST', '/deployment', deployment(['staying']));
    assert.equal(result.status, 200, result.body);
    await Promise.race([
      disconnected,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('the removed module is still connected')), 15_000).unref(),
      ),
    ]);
    assert.equal(generationIds(daemon).leaving, undefined, 'its generation id is forgotten');
    assert.equal(existsSync(workloadDirectory(daemon.homedir, 'leaving')), false, 'its socket is gone');
    assert.equal(await connackCode(endpoint, leavingFields), 5, 'a token made before is refused');
    const staying = await connect(endpoint, credentials.connectFields('staying'));
    await end(staying);

    const again = await daemon.request('POST', '/deployment', deployment(['staying', 'leaving']));
    assert.equal(again.status, 200, again.body);
    const newGeneration = await eventually(async () => generationIds(daemon).leaving, 'a new identity');
    assert.notEqual(newGeneration, oldGeneration);
    assert.equal(await connackCode(endpoint, leavingFields), 5, 'the old token stays refused');
    assert.equal(await connackCode(endpoint, credentials.connectFields('leaving')), 0);
  });
});
