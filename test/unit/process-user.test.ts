import assert from 'node:assert/strict';
import { test } from 'node:test';

import { resolveRunAs } from '../../src/runtime/modules/process/run-as.js';
import { findPasswdEntry, parseUserSpec, runAsFor } from '../../src/runtime/modules/process/user-spec.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  '# a comment',
  'sensor:x:1001:1002:Sensor:/home/sensor:/usr/sbin/nologin',
  'broken:x:abc:1:',
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
].join('\n');

test('settings.user is a name or uid[:gid]', () => {
  assert.deepEqual(parseUserSpec('sensor'), { name: 'sensor' });
  assert.deepEqual(parseUserSpec('svc-user.1$'), { name: 'svc-user.1$' });
  assert.deepEqual(parseUserSpec('1000'), { uid: 1000 });
  assert.deepEqual(parseUserSpec('1000:20'), { uid: 1000, gid: 20 });
  for (const bad of ['', 'no body', '-x', '1000:', ':20', 'a:b', 'x'.repeat(40)]) {
    assert.ok('problem' in parseUserSpec(bad), bad);
  }
  assert.deepEqual(parseUserSpec('4294967295'), { problem: 'ids go up to 4294967294' });
});

test('a passwd entry is found by name or by uid; malformed lines are skipped', () => {
  assert.deepEqual(findPasswdEntry(PASSWD, { name: 'sensor' }), { name: 'sensor', uid: 1001, gid: 1002 });
  assert.deepEqual(findPasswdEntry(PASSWD, { uid: 65534 }), { name: 'nobody', uid: 65534, gid: 65534 });
  assert.equal(findPasswdEntry(PASSWD, { name: 'broken' }), undefined);
  assert.equal(findPasswdEntry(PASSWD, { name: 'ghost' }), undefined);
});

test('a name needs an entry; a uid alone takes its group from one; uid:gid needs none', () => {
  const sensor = { name: 'sensor', uid: 1001, gid: 1002 };
  assert.deepEqual(runAsFor({ name: 'sensor' }, sensor), { uid: 1001, gid: 1002 });
  assert.throws(() => runAsFor({ name: 'ghost' }, undefined), { message: 'no such user "ghost"' });
  assert.deepEqual(runAsFor({ uid: 1001 }, sensor), { uid: 1001, gid: 1002 });
  assert.throws(() => runAsFor({ uid: 4242 }, undefined), /uid 4242 has no entry .*"4242:GID"/);
  assert.deepEqual(runAsFor({ uid: 4242, gid: 7 }, undefined), { uid: 4242, gid: 7 });
});

test('resolveRunAs asks this host: nobody exists, a made-up name does not', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: only root may run a module as another user');
  assert.equal((await resolveRunAs('nobody')).uid, 65534);
  assert.deepEqual(await resolveRunAs('4242:4343'), { uid: 4242, gid: 4343 });
  await assert.rejects(resolveRunAs('no-such-user-iotedge'), {
    message: 'no such user "no-such-user-iotedge"',
  });
});
