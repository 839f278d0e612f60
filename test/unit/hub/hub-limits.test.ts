import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectionLimitRefusal,
  DEFAULT_MAX_CONNECTED_CLIENTS,
  parseMaxConnectedClients,
} from '../../../src/runtime/deployment/max-connected-clients.js';
import { DeploymentError } from '../../../src/runtime/deployment/deployment-error.js';
import { parseDeployment } from '../../../src/runtime/deployment/manifest.js';
import { TwinPatchError, twinSectionSizeError } from '../../../src/runtime/hub/twin/reported-validation.js';
import { MAX_TWIN_SECTION_BYTES, twinSectionSize } from '../../../src/runtime/deployment/twin-size.js';
import { TwinStore } from '../../../src/runtime/hub/twin-store.js';
import { manifestWith, validManifest } from '../../helpers/manifest-fixture.js';

test('MaxConnectedClients: default 101, whole numbers of at least 1, a clear problem otherwise', () => {
  assert.equal(parseMaxConnectedClients({}), DEFAULT_MAX_CONNECTED_CLIENTS);
  assert.equal(DEFAULT_MAX_CONNECTED_CLIENTS, 101);
  assert.equal(parseMaxConnectedClients({ MaxConnectedClients: ' 3 ' }), 3);
  assert.equal(parseMaxConnectedClients({ MaxConnectedClients: '1' }), 1);
  for (const bad of ['0', '-2', 'ten', '2.5', '', '1e3', '99999999999']) {
    const parsed = parseMaxConnectedClients({ MaxConnectedClients: bad });
    assert.ok(typeof parsed === 'object', `${bad} should be refused`);
    assert.match(parsed.problem, /is not a whole number of clients of at least 1/);
  }
});

test('connection limit: edgeHub counts as one; a new identity is refused once full, a connected one never', () => {
  const connected = new Set(['d1', 'd2']);
  assert.equal(connectionLimitRefusal(4, connected, 'd3'), undefined);
  const refusal = connectionLimitRefusal(3, connected, 'd3');
  assert.match(refusal ?? '', /maximum allowed clients \(2\).*MaxConnectedClients 3/);
  assert.equal(connectionLimitRefusal(3, connected, 'd1'), undefined, 'a reconnection replaces its own');
  assert.ok(connectionLimitRefusal(1, new Set(), 'd1'), '1 leaves room for edgeHub only');
});

test('twin section size is counted as IoT Hub counts it, without the service $-keys', () => {
  assert.equal(twinSectionSize({ $version: 4, ab: 'xyz' }), 5);
  assert.equal(twinSectionSize({ n: 1, b: true, o: { k: [1, 'é'] } }), 1 + 8 + 1 + 4 + 1 + 1 + 8 + 2);
  assert.equal(twinSectionSize({ s: 'a\u0001b' }), 3, 'control characters are not counted');
  const atLimit = { k: 'x'.repeat(MAX_TWIN_SECTION_BYTES - 1) };
  assert.equal(twinSectionSizeError('reported', atLimit), undefined);
  const over = twinSectionSizeError('desired', { k: 'x'.repeat(MAX_TWIN_SECTION_BYTES) });
  assert.ok(over instanceof TwinPatchError);
  assert.equal(over.status, 400);
  assert.deepEqual(over.body(), {
    errorCode: 400004,
    message: `Twin desired properties size ${MAX_TWIN_SECTION_BYTES + 1} would exceed the maximum of ${MAX_TWIN_SECTION_BYTES} bytes`,
  });
});

test('a reported patch growing the section past the limit is refused, the twin unchanged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'twin-size-'));
  try {
    const twins = new TwinStore(join(dir, 'twins.json'));
    const chunk = 'x'.repeat(3000);
    let version = 0;
    const patches: Record<string, string>[] = [];
    for (let i = 0; i < 10; i += 1) patches.push({ [`p${i}`]: chunk });
    for (const patch of patches) version = await twins.patchReported('dev', patch);
    const before = twins.get('dev').reported;
    await assert.rejects(twins.patchReported('dev', { p10: chunk, p11: chunk }), (error) => {
      assert.ok(error instanceof TwinPatchError);
      assert.match(error.message, /Twin reported properties size \d+ would exceed the maximum of 32768/);
      return true;
    });
    assert.deepEqual(twins.get('dev').reported, before);
    // removing properties is always allowed, and then room is made again
    const after = await twins.patchReported('dev', { p0: null, p1: null, p10: chunk });
    assert.equal(after, version + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a deployment whose module desired properties exceed the limit is refused naming the module', () => {
  const manifest = validManifest();
  manifest.modulesContent.tempSensor = {
    'properties.desired': { big: 'x'.repeat(MAX_TWIN_SECTION_BYTES + 10) },
  };
  assert.throws(
    () => parseDeployment(manifest),
    (error) =>
      error instanceof DeploymentError &&
      error.code === 400 &&
      /^tempSensor\.properties\.desired: Twin desired properties size \d+ would exceed/.test(error.message),
  );
});

test('an invalid MaxConnectedClients refuses the deployment naming the variable', () => {
  const manifest = manifestWith({ 'systemModules.edgeHub.env': { MaxConnectedClients: { value: '0' } } });
  assert.throws(
    () => parseDeployment(manifest),
    (error) =>
      error instanceof DeploymentError &&
      error.code === 400 &&
      error.message.startsWith(
        'systemModules.edgeHub.env.MaxConnectedClients.value: "0" is not a whole number',
      ),
  );
});
