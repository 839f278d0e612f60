import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { AgentStore } from '../../src/runtime/agent/store.js';
import { SmallTmpfs } from '../helpers/small-tmpfs.js';

test('module identities created at the same time are all kept, in memory and on disk', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'iotedge-agent-store-'));
  try {
    const store = new AgentStore(dir);
    const names = ['a', 'b', 'c', 'd'];
    const ids = await Promise.all(names.map((name) => store.generationId(name, () => `gen-${name}`)));
    assert.deepEqual(ids, ['gen-a', 'gen-b', 'gen-c', 'gen-d']);
    assert.deepEqual(Object.keys(await store.identities()).sort(), names);
    const saved = JSON.parse(await readFile(path.join(dir, 'identities.json'), 'utf8')) as Record<
      string,
      string
    >;
    assert.deepEqual(Object.keys(saved).sort(), names);
    assert.equal(await new AgentStore(dir).generationId('a', () => 'new'), 'gen-a', 'kept across restarts');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('retain: identities of modules no longer deployed are forgotten, new ones created, in one save', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'iotedge-agent-store-'));
  try {
    const store = new AgentStore(dir);
    await store.generationId('leaving', () => 'gen-leaving');
    await store.generationId('staying', () => 'gen-staying');
    let made = 0;
    const forgotten = await store.retain(['staying', 'new'], () => `gen-new-${++made}`);
    assert.deepEqual(forgotten, ['leaving']);
    assert.equal(made, 1);
    assert.equal(await store.lookup('leaving'), undefined);
    assert.equal(await store.lookup('staying'), 'gen-staying');
    const saved = JSON.parse(await readFile(path.join(dir, 'identities.json'), 'utf8')) as object;
    assert.deepEqual(saved, { staying: 'gen-staying', new: 'gen-new-1' });
    const again = await new AgentStore(dir).generationId('leaving', () => 'gen-leaving-2');
    assert.equal(again, 'gen-leaving-2', 'a module deployed again gets a new identity');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('20,000 modules: every identity is kept, in memory and on disk', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'iotedge-agent-store-'));
  try {
    const store = new AgentStore(dir);
    const names = Array.from({ length: 20_000 }, (_, index) => `module-${index}`);
    await store.retain(names.slice(0, 10_000), () => 'gen-retained');
    // the rest one by one and all at once, as a reconcile creating them in parallel would
    await Promise.all(names.slice(10_000).map((name) => store.generationId(name, () => `gen-${name}`)));
    const saved = JSON.parse(await readFile(path.join(dir, 'identities.json'), 'utf8')) as Record<
      string,
      string
    >;
    assert.equal(Object.keys(saved).length, 20_000);
    assert.equal(saved['module-19999'], 'gen-module-19999');
    assert.equal(saved['module-0'], 'gen-retained');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a full disk fails the deployment save and the id save; the id is saved before it is handed out again', async (t) => {
  const mounted = SmallTmpfs.mount(256);
  if ('skip' in mounted) return t.skip(mounted.skip);
  try {
    const store = new AgentStore(mounted.dir);
    await store.saveDeployment({ version: 1 });
    mounted.fill();
    await assert.rejects(store.saveDeployment({ version: 2 }), /deployment\.json: ENOSPC/);
    assert.deepEqual(await store.loadDeployment(), { version: 1 }, 'the previous deployment is intact');
    await assert.rejects(
      store.generationId('m', () => 'gen-m'),
      /identities\.json: ENOSPC/,
    );
    assert.deepEqual(
      (await readdir(mounted.dir)).filter((name) => name.endsWith('.tmp')),
      [],
      'no temporary file left',
    );

    mounted.free();
    assert.equal(await store.generationId('m', () => 'other'), 'gen-m');
    assert.equal(await new AgentStore(mounted.dir).lookup('m'), 'gen-m', 'on disk before it was handed out');
  } finally {
    mounted.unmount();
  }
});
