import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { eventually, manifest, type TestDaemon } from '../helpers/daemon.js';
import { testPki } from '../helpers/certs.js';
import { dpsDaemon, provisioningState } from '../helpers/dps-daemon.js';
import { LocalDps, attestationPki, randomKey } from '../helpers/dps-server.js';
import { cleanupDaemons } from '../helpers/nested.js';

const SCOPE = '0ne0000000A';
const key = randomKey;

function backup(daemon: TestDaemon): Record<string, unknown> {
  return JSON.parse(
    readFileSync(path.join(daemon.homedir, 'cache/provisioning_backup.json'), 'utf8'),
  ) as Record<string, unknown>;
}

describe('iotedged provisions through DPS', () => {
  const pki = testPki();
  const { ca: attestationCa, device: x509Device } = attestationPki('edge-x509');
  const dps = new LocalDps(SCOPE, pki.server, attestationCa.certPem);
  const deviceKey = key();
  const groupKey = key();
  const daemons: TestDaemon[] = [];
  const symmetric = (registrationId: string, secret = deviceKey) => [
    '    method: symmetric_key',
    `    registration_id: ${registrationId}`,
    `    symmetric_key: ${secret}`,
  ];
  const made = (daemon: TestDaemon) => (daemons.push(daemon), daemon);

  before(async () => {
    await dps.start();
    dps.enrollments.set('edge-sym', {
      key: deviceKey,
      assignedHub: 'hub-a.example.net',
      deviceId: 'edge-one',
    });
    dps.groups.push({ groupKey, assignedHub: 'hub-g.example.net' });
  });
  after(async () => {
    await cleanupDaemons(...daemons);
    await dps.close();
  });

  test('individual enrollment over HTTPS: the assignment feeds system status, the cache and `iotedge check`', async () => {
    const daemon = made(dpsDaemon(dps, { attestation: symmetric('edge-sym'), trustedCas: [pki.ca.cert] }));
    await daemon.start();
    assert.deepEqual(provisioningState(daemon), {
      status: 'provisioned',
      source: 'dps',
      deviceId: 'edge-one',
      iothubHostname: 'hub-a.example.net',
    });
    assert.deepEqual(backup(daemon), {
      hub_name: 'hub-a.example.net',
      device_id: 'edge-one',
      registration_id: 'edge-sym',
    });
    assert.doesNotMatch(
      readFileSync(path.join(daemon.homedir, 'cache/provisioning_backup.json'), 'utf8'),
      /key/i,
    );
    const status = daemon.cli(['system', 'status']);
    assert.match(status.stdout, /^Provisioning: device edge-one on hub-a\.example\.net \(from DPS\)$/m);
    // async: the local DPS in this process answers the check's handshake
    const check = await daemon.cliAsync(['check', '--config-file', daemon.configFile, '--output', 'json']);
    const connection = (
      JSON.parse(check.stdout) as { checks: Record<string, { result: string; additional_info?: unknown }> }
    ).checks['connection-string'];
    assert.equal(connection?.result, 'ok', check.stdout);
    assert.deepEqual(connection?.additional_info, {
      iothub_hostname: 'hub-a.example.net',
      device_id: 'edge-one',
    });
    assert.equal(
      (JSON.parse(check.stdout) as { checks: Record<string, { result: string }> }).checks[
        'host-connect-dps-endpoint'
      ]?.result,
      'ok',
    );
    assert.doesNotMatch(
      daemon.output,
      new RegExp(deviceKey.replace(/[+/=]/g, '.')),
      'the key never reaches the log',
    );

    // offline restart: DPS down, the cached assignment is used and the failure shown
    await daemon.signal('SIGTERM');
    await dps.close();
    try {
      await daemon.start();
      const state = provisioningState(daemon)!;
      assert.equal(state.status, 'provisioned');
      assert.equal(state.source, 'cache');
      assert.equal(state.deviceId, 'edge-one');
      assert.match(String(state.lastError), /the DPS endpoint localhost:\d+ is unreachable \(ECONNREFUSED\)/);
    } finally {
      await dps.start();
    }
  });

  test('always_reprovision_on_startup: false starts from the cache without asking DPS', async () => {
    const daemon = made(
      dpsDaemon(dps, {
        attestation: symmetric('edge-sym'),
        trustedCas: [pki.ca.cert],
        alwaysReprovisionOnStartup: false,
      }),
    );
    await daemon.start();
    const asked = dps.requests.length;
    await daemon.signal('SIGTERM');
    await daemon.start();
    assert.equal(dps.requests.length, asked, 'no registration at the second start');
    assert.equal(provisioningState(daemon)?.source, 'cache');
  });

  test('group enrollment over MQTT: the device key derives from the group key', async () => {
    const daemon = made(
      dpsDaemon(dps, {
        attestation: [
          '    method: symmetric_key',
          '    registration_id: member-42',
          `    group_key: ${groupKey}`,
        ],
        trustedCas: [pki.ca.cert],
        transport: 'mqtt',
      }),
    );
    await daemon.start();
    assert.equal(provisioningState(daemon)?.deviceId, 'member-42');
    assert.deepEqual(dps.requests.at(-1), { registrationId: 'member-42', transport: 'mqtt' });
  });

  test('X.509 attestation: the registration id is the certificate common name when not given', async () => {
    const cert = x509Device;
    dps.enrollments.set('edge-x509', { x509: true, assignedHub: 'hub-x.example.net', deviceId: 'edge-x' });
    const daemon = made(dpsDaemon(dps, { attestation: [], trustedCas: [pki.ca.cert] }));
    const certFile = path.join(daemon.dir, 'identity.pem');
    const keyFile = path.join(daemon.dir, 'identity.key.pem');
    writeFileSync(certFile, cert.certPem);
    writeFileSync(keyFile, cert.keyPem, { mode: 0o600 });
    writeFileSync(
      daemon.configFile,
      readFileSync(daemon.configFile, 'utf8').replace(
        '  attestation:\n',
        `  attestation:\n    method: x509\n    identity_cert: file://${certFile}\n    identity_pk: file://${keyFile}\n`,
      ),
    );
    await daemon.start();
    assert.equal(provisioningState(daemon)?.iothubHostname, 'hub-x.example.net');
  });

  test('without a cache and with DPS refusing, the management API answers and shows why; a fix is picked up by the retries', async () => {
    dps.enrollments.set('edge-late', { key: key(), assignedHub: 'hub-l.example.net', deviceId: 'edge-late' });
    const daemon = made(dpsDaemon(dps, { attestation: symmetric('edge-late'), trustedCas: [pki.ca.cert] }));
    await daemon.start();
    const waiting = provisioningState(daemon)!;
    assert.equal(waiting.status, 'provisioning');
    assert.match(
      String(waiting.lastError),
      /DPS refused the attestation of registration edge-late in scope 0ne0000000A \(401\)/,
    );
    const status = daemon.cli(['system', 'status']);
    assert.match(status.stdout, /^Provisioning: waiting for DPS \(attempt \d+/m);
    const deploy = await daemon.request('POST', '/deployment', manifest({}));
    assert.equal(deploy.status, 503);
    assert.match(deploy.body, /not provisioned yet/);
    // the enrollment gets the device's key: the next retry succeeds and the daemon runs
    dps.enrollments.set('edge-late', {
      key: deviceKey,
      assignedHub: 'hub-l.example.net',
      deviceId: 'edge-late',
    });
    await eventually(
      async () => (provisioningState(daemon)?.status === 'provisioned' ? true : undefined),
      'provisioned after the enrollment was fixed',
    );
    const posted = await daemon.request('POST', '/deployment', manifest({}));
    assert.equal(posted.status, 200, posted.body);
  });

  test('an unknown scope and a disabled enrollment are named; reprovision tries at once', async () => {
    const unknown = made(
      dpsDaemon(dps, { attestation: symmetric('edge-sym'), trustedCas: [pki.ca.cert], scopeId: '0ne404' }),
    );
    await unknown.start();
    assert.match(String(provisioningState(unknown)?.lastError), /does not know the ID scope 0ne404 \(404\)/);
    const again = await unknown.cliAsync(['system', 'reprovision']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /does not know the ID scope 0ne404/);

    dps.enrollments.set('edge-off', { key: deviceKey, assignedHub: 'h', deviceId: 'd', enabled: false });
    const disabled = made(dpsDaemon(dps, { attestation: symmetric('edge-off'), trustedCas: [pki.ca.cert] }));
    await disabled.start();
    assert.match(
      String(provisioningState(disabled)?.lastError),
      /enrollment of registration edge-off is disabled/,
    );
  });

  test('reprovision with a changed assignment removes the old identity state and restarts under the new one', async () => {
    dps.enrollments.set('edge-move', {
      key: deviceKey,
      assignedHub: 'hub-old.example.net',
      deviceId: 'edge-old',
    });
    const daemon = made(dpsDaemon(dps, { attestation: symmetric('edge-move'), trustedCas: [pki.ca.cert] }));
    await daemon.start();
    const posted = await daemon.request('POST', '/deployment', manifest({}));
    assert.equal(posted.status, 200, posted.body);
    assert.ok(existsSync(path.join(daemon.homedir, 'agent/deployment.json')));

    const same = await daemon.cliAsync(['system', 'reprovision', '--json']);
    assert.equal(same.code, 0, same.stderr);
    assert.deepEqual(JSON.parse(same.stdout), {
      deviceId: 'edge-old',
      iothubHostname: 'hub-old.example.net',
      changed: false,
    });

    dps.enrollments.set('edge-move', {
      key: deviceKey,
      assignedHub: 'hub-new.example.net',
      deviceId: 'edge-new',
    });
    const exited = new Promise<number | null>((resolve) =>
      daemon.process!.once('exit', (code) => resolve(code)),
    );
    const moved = await daemon.cliAsync(['system', 'reprovision']);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(
      moved.stdout,
      /device edge-new on hub-new\.example\.net[\s\S]*restarts under the new identity/,
    );
    assert.equal(await exited, 75);
    assert.ok(!existsSync(path.join(daemon.homedir, 'agent/deployment.json')), 'the old deployment is gone');
    assert.deepEqual(backup(daemon).device_id, 'edge-new');

    await daemon.start();
    assert.equal(provisioningState(daemon)?.deviceId, 'edge-new');
  });

  test('TPM attestation is refused at start with the reason', async () => {
    const daemon = made(
      dpsDaemon(dps, {
        attestation: ['    method: tpm', '    registration_id: edge-tpm'],
        trustedCas: [pki.ca.cert],
      }),
    );
    await assert.rejects(daemon.start(), /iotedged exited 1:[\s\S]*attestation\.method tpm is not supported/);
  });
});
