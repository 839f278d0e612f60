import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { AgentStore } from '../../src/runtime/agent/store.js';

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
