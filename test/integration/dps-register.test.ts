import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { dpsEndpoint } from '../../src/runtime/provisioning/dps-endpoint.js';
import { describeDpsFailure } from '../../src/runtime/provisioning/dps-errors.js';
import { registerWithDps, type DpsRegistration } from '../../src/runtime/provisioning/dps-register.js';
import { deriveDeviceKey } from '../../src/runtime/provisioning/group-key.js';
import { testPki } from '../helpers/certs.js';
import { LocalDps, attestationPki, randomKey } from '../helpers/dps-server.js';
import { closedPort } from '../helpers/tls-servers.js';

const SCOPE = '0ne00000001';
const key = randomKey;

describe('registration through the provisioning SDK against a local DPS', () => {
  const pki = testPki();
  const { ca: attestationCa, device: deviceCert } = attestationPki('x509-device');
  const dps = new LocalDps(SCOPE, pki.server, attestationCa.certPem);
  const deviceKey = key();
  const groupKey = key();

  const registration = (overrides: Partial<DpsRegistration>): DpsRegistration => ({
    endpoint: dpsEndpoint(dps.endpoint),
    scopeId: SCOPE,
    registrationId: 'sym-device',
    credentials: { kind: 'symmetric_key', key: deviceKey },
    transport: 'http',
    trustedCaPem: pki.ca.cert,
    ...overrides,
  });
  const failure = async (overrides: Partial<DpsRegistration>) => {
    const request = registration(overrides);
    const error = await registerWithDps(request).then(
      () => assert.fail('registration succeeded'),
      (caught: unknown) => caught,
    );
    return describeDpsFailure(error, request);
  };

  before(async () => {
    await dps.start();
    dps.enrollments.set('sym-device', {
      key: deviceKey,
      assignedHub: 'hub-a.example.net',
      deviceId: 'edge-a',
    });
    dps.enrollments.set('x509-device', { x509: true, assignedHub: 'hub-x.example.net', deviceId: 'edge-x' });
    dps.enrollments.set('off-device', {
      key: deviceKey,
      assignedHub: 'hub-a.example.net',
      deviceId: 'edge-off',
      enabled: false,
    });
    dps.groups.push({ groupKey, assignedHub: 'hub-g.example.net' });
  });
  after(() => dps.close());

  for (const transport of ['http', 'mqtt'] as const) {
    test(`${transport}: an individual symmetric-key enrollment is assigned its hub and device id`, async () => {
      const before = dps.requests.length;
      assert.deepEqual(await registerWithDps(registration({ transport })), {
        assignedHub: 'hub-a.example.net',
        deviceId: 'edge-a',
      });
      assert.deepEqual(dps.requests.slice(before), [{ registrationId: 'sym-device', transport }]);
    });

    test(`${transport}: a group enrollment accepts the device key derived from the group key`, async () => {
      const credentials = {
        kind: 'symmetric_key' as const,
        key: deriveDeviceKey(groupKey, 'group-member-7'),
      };
      assert.deepEqual(
        await registerWithDps(registration({ transport, registrationId: 'group-member-7', credentials })),
        { assignedHub: 'hub-g.example.net', deviceId: 'group-member-7' },
      );
    });

    test(`${transport}: X.509 attestation presents the identity certificate in the TLS handshake`, async () => {
      const credentials = { kind: 'x509' as const, cert: deviceCert.certPem, key: deviceCert.keyPem };
      assert.deepEqual(
        await registerWithDps(registration({ transport, registrationId: 'x509-device', credentials })),
        { assignedHub: 'hub-x.example.net', deviceId: 'edge-x' },
      );
    });

    test(`${transport}: a wrong key is refused and the error names the registration and scope`, async () => {
      const refused = await failure({ transport, credentials: { kind: 'symmetric_key', key: key() } });
      assert.equal(refused.kind, 'attestation-refused');
      assert.match(
        refused.message,
        /DPS refused the attestation of registration sym-device in scope 0ne00000001 \(401\)/,
      );
    });

    test(`${transport}: an unknown ID scope is named`, async () => {
      const unknown = await failure({ transport, scopeId: '0ne99999999' });
      assert.equal(unknown.kind, 'unknown-scope');
      assert.match(unknown.message, /does not know the ID scope 0ne99999999 \(404\)/);
    });

    test(`${transport}: a disabled enrollment is named`, async () => {
      const disabled = await failure({ transport, registrationId: 'off-device' });
      assert.equal(disabled.kind, 'disabled');
      assert.match(disabled.message, /enrollment of registration off-device is disabled/);
    });

    test(`${transport}: a DPS not trusted fails the TLS handshake, naming the setting that trusts it`, async () => {
      const untrusted = await failure({ transport, trustedCaPem: attestationCa.certPem });
      assert.equal(untrusted.kind, 'tls');
      assert.match(untrusted.message, /certificates\.trusted_ca_certs/);
    });

    test(`${transport}: a closed port is an unreachable endpoint`, async () => {
      const port = await closedPort();
      const unreachable = await failure({ transport, endpoint: { host: '127.0.0.1', port } });
      assert.equal(unreachable.kind, 'unreachable');
      assert.match(
        unreachable.message,
        new RegExp(`the DPS endpoint 127\\.0\\.0\\.1:${port} is unreachable`),
      );
    });
  }
});
