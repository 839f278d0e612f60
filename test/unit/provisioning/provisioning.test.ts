import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dpsEndpoint, hostWithPort } from '../../../src/runtime/provisioning/dps-endpoint.js';
import { describeDpsFailure } from '../../../src/runtime/provisioning/dps-errors.js';
import { deriveDeviceKey } from '../../../src/runtime/provisioning/group-key.js';
import { renderProvisioning } from '../../../src/cli/system-status.js';
import { reprovisionOnRefusal } from '../../../src/runtime/daemon/reprovision.js';

const context = {
  endpoint: { host: 'dps.example.net', port: 443 },
  scopeId: '0ne001',
  registrationId: 'reg-1',
};

test('a group enrollment device key is HMAC-SHA256 of the registration id keyed by the decoded group key', () => {
  // computed independently: printf sensor-0001 | openssl dgst -sha256 -mac HMAC -macopt hexkey:<key hex> -binary | base64
  assert.equal(
    deriveDeviceKey('Z3JvdXAta2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5YWI=', 'sensor-0001'),
    'ho3PWUc2e5NJgO/tKfIQNgGXJhpkpPn49K+Z4nS6e4A=',
  );
});

test('global_endpoint: host and port (443 by default); only https', () => {
  assert.deepEqual(dpsEndpoint('https://global.azure-devices-provisioning.net'), {
    host: 'global.azure-devices-provisioning.net',
    port: 443,
  });
  assert.deepEqual(dpsEndpoint('https://localhost:8443/'), { host: 'localhost', port: 8443 });
  assert.deepEqual(dpsEndpoint('https://[::1]:9000'), { host: '::1', port: 9000 });
  assert.equal(hostWithPort('::1', 8883), '[::1]:8883');
  assert.throws(
    () => dpsEndpoint('http://dps.example.net'),
    /global_endpoint: "http:\/\/dps\.example\.net" is not an https:\/\/ URL/,
  );
});

test('failures are named from what the SDK reports over either transport', () => {
  const refusedHttp = Object.assign(new Error('Unauthorized'), {
    name: 'UnauthorizedError',
    response: { statusCode: 401 },
    responseBody: '{"errorCode":401002,"message":"bad signature"}',
  });
  assert.deepEqual(describeDpsFailure(refusedHttp, context), {
    kind: 'attestation-refused',
    message: 'DPS refused the attestation of registration reg-1 in scope 0ne001 (401): bad signature',
  });
  const unknownMqtt = Object.assign(new Error('incoming message failure'), {
    transportObject: { topic: '$dps/registrations/res/404/?$rid=1', payload: {} },
    result: { message: 'no scope' },
  });
  assert.equal(describeDpsFailure(unknownMqtt, context).kind, 'unknown-scope');
  const disabled = Object.assign(new SyntaxError('status is disabled'), { result: { status: 'disabled' } });
  assert.match(describeDpsFailure(disabled, context).message, /enrollment of registration reg-1 is disabled/);
  const failed = Object.assign(new Error('registration failed'), {
    result: { status: 'failed', registrationState: { errorMessage: 'no linked hub' } },
  });
  assert.equal(
    describeDpsFailure(failed, context).message,
    'DPS could not assign registration reg-1: no linked hub',
  );
  const refusedConnect = Object.assign(new Error('Connection refused: Not authorized'), { code: 5 });
  assert.equal(describeDpsFailure(refusedConnect, context).kind, 'attestation-refused');
  const dns = Object.assign(new Error('getaddrinfo ENOTFOUND dps.example.net'), { code: 'ENOTFOUND' });
  assert.equal(
    describeDpsFailure(dns, context).message,
    'the DPS endpoint dps.example.net:443 is unreachable (ENOTFOUND)',
  );
  const timeout = Object.assign(new Error(''), { name: 'TimeoutError' });
  assert.match(describeDpsFailure(timeout, context).message, /unreachable \(no answer within 30 s\)/);
  assert.equal(describeDpsFailure('odd', context).kind, 'other');
});

test('system status: the provisioning line', () => {
  assert.equal(
    renderProvisioning({ status: 'provisioned', source: 'dps', deviceId: 'd', iothubHostname: 'h' }),
    'device d on h (from DPS)',
  );
  assert.equal(
    renderProvisioning({
      status: 'provisioned',
      source: 'cache',
      deviceId: 'd',
      iothubHostname: 'h',
      lastError: 'x',
    }),
    'device d on h (from the cached assignment; DPS: x)',
  );
  assert.equal(
    renderProvisioning({
      status: 'provisioning',
      attempts: 2,
      nextAttemptAt: '2026-01-01T00:00:00.000Z',
      lastError: 'e',
    }),
    'waiting for DPS (attempt 2, next at 2026-01-01T00:00:00.000Z): e',
  );
});

test('dynamic reprovisioning registers again on a refusal, at most once a minute, and logs the outcome', async () => {
  let clock = 1_000_000;
  let calls = 0;
  const lines: string[] = [];
  const refused = reprovisionOnRefusal(
    {
      state: { status: 'provisioned' } as never,
      reprovision: async () => {
        calls += 1;
        return { deviceId: 'edge-2', iothubHostname: 'hub-2', changed: calls > 1 };
      },
    },
    (line) => lines.push(line),
    () => clock,
  );
  refused('Connection refused: Not authorized');
  refused('Connection refused: Not authorized');
  clock += 59_000;
  refused('again');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls, 1);
  clock += 2_000;
  refused('after a minute');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls, 2);
  assert.deepEqual(lines, [
    'dynamic reprovisioning: the upstream refused this device (Connection refused: Not authorized); registering with DPS again',
    'dynamic reprovisioning: DPS assigned the same hub and device id',
    'dynamic reprovisioning: the upstream refused this device (after a minute); registering with DPS again',
    'dynamic reprovisioning: DPS assigned edge-2 on hub-2; restarting under it',
  ]);
});
