import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

// `unshare -n` runs the CLI in a fresh network namespace of its own: only a loopback interface,
// which is down. That is a device with no network at all, made without touching the host's.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const probe = spawnSync('unshare', ['-n', 'true']);
const skip = probe.status === 0 ? false : 'cannot create a network namespace here (unshare -n needs root)';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'iotedge-offline-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('with no network at all, a full check finishes with clear results instead of hanging', { skip }, () => {
  const config = path.join(tmp, 'config.yaml');
  writeFileSync(
    config,
    [
      'provisioning:',
      '  source: dps',
      '  global_endpoint: "https://global.azure-devices-provisioning.net"',
      '  scope_id: "0ne00000000"',
      '  attestation:',
      '    method: symmetric_key',
      '    registration_id: dev1',
      '    symmetric_key: "c2VjcmV0a2V5MTIzNDU2Nzg="',
      `hostname: ${os.hostname()}`,
      `homedir: ${tmp}/home`,
    ].join('\n'),
  );
  const run = spawnSync(
    'unshare',
    [
      '-n',
      process.execPath,
      path.join(root, 'bin/run.js'),
      'check',
      '-c',
      config,
      '-o',
      'json',
      '--iothub-hostname',
      'example-hub.azure-devices.net',
    ],
    { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } },
  );
  assert.equal(run.signal, null, 'check must end by itself');
  assert.equal(run.status, 1);
  const { checks } = JSON.parse(run.stdout);

  assert.equal(checks['host-local-time'].result, 'warning');
  assert.match(checks['host-local-time'].details.join('\n'), /NTP/);
  for (const protocol of ['amqp', 'https', 'mqtt']) {
    const check = checks[`host-connect-iothub-${protocol}`];
    assert.equal(check.result, 'error');
    assert.match(check.details[0], /example-hub\.azure-devices\.net/);
  }
  assert.equal(checks['host-connect-dps-endpoint'].result, 'error');
  assert.match(
    checks['host-connect-dps-endpoint'].details.join('\n'),
    /global\.azure-devices-provisioning\.net/,
  );
  assert.doesNotMatch(run.stdout, /c2VjcmV0a2V5MTIzNDU2Nzg/);
});
