import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ownedBy, ownershipEvidence } from '../../src/runtime/modules/docker/ownership.js';

const OWNER = 'Microsoft.Azure.Devices.Edge.Agent';
const labels = (extra: Record<string, string> = {}) => ({ 'net.azure-devices.edge.owner': OWNER, ...extra });

test('a container is the daemon’s whose homedir label names its homedir', () => {
  const mine = { labels: labels({ 'net.azure-devices.edge.homedir': '/var/lib/a' }) };
  assert.equal(ownedBy(mine, OWNER, '/var/lib/a'), true);
  assert.equal(ownedBy(mine, OWNER, '/var/lib/a/'), true, 'the same directory written otherwise');
  assert.equal(ownedBy(mine, OWNER, '/var/lib/b'), false, 'another daemon’s');
  assert.equal(
    ownedBy({ labels: { 'net.azure-devices.edge.homedir': '/var/lib/a' } }, OWNER, '/var/lib/a'),
    false,
  );
});

test('a container older than the homedir label is the daemon’s whose workload directory it binds', () => {
  const legacy = ownershipEvidence({
    Labels: labels(),
    Mounts: [{ Source: '/data' }, { Source: '/var/lib/a/mnt/sensor' }],
  });
  assert.equal(ownedBy(legacy, OWNER, '/var/lib/a'), true);
  assert.equal(ownedBy(legacy, OWNER, '/var/lib/a2'), false, 'a homedir that only starts alike');
  assert.equal(ownedBy(legacy, OWNER, '/var/lib/b'), false);
  assert.equal(
    ownedBy(ownershipEvidence({ Labels: labels() }), OWNER, '/var/lib/a'),
    false,
    'no bind: no one’s',
  );
});

test('inspect bodies carry their labels under Config', () => {
  const inspected = ownershipEvidence({
    Config: { Labels: labels({ 'net.azure-devices.edge.homedir': '/h' }) },
    Mounts: null,
  });
  assert.equal(ownedBy(inspected, OWNER, '/h'), true);
});
