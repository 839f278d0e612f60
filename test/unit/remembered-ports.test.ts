import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import {
  listenPreferringRemembered,
  readRememberedPorts,
  writeRememberedPorts,
} from '../../src/runtime/daemon/remembered-ports.js';

test('port 0 tries the remembered port first, then any free port', async () => {
  const tried: number[] = [];
  const attempt = async (binding: { host: string; port: number }) => {
    tried.push(binding.port);
    if (binding.port === 40001) throw new Error('EADDRINUSE');
    return binding.port;
  };
  assert.equal(await listenPreferringRemembered({ host: '127.0.0.1', port: 0 }, 40000, attempt), 40000);
  assert.equal(await listenPreferringRemembered({ host: '127.0.0.1', port: 0 }, 40001, attempt), 0);
  assert.equal(await listenPreferringRemembered({ host: '127.0.0.1', port: 8883 }, 40000, attempt), 8883);
  assert.equal(await listenPreferringRemembered({ host: '127.0.0.1', port: 0 }, undefined, attempt), 0);
  assert.deepEqual(tried, [40000, 40001, 0, 8883, 0]);
});

test('remembered ports round-trip; a missing or malformed file remembers nothing', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ports-'));
  try {
    const file = path.join(dir, 'hub', 'ports.json');
    assert.deepEqual(await readRememberedPorts(file), {});
    await writeRememberedPorts(file, { mqtt: 41000, https: 41001 });
    assert.deepEqual(await readRememberedPorts(file), { mqtt: 41000, https: 41001 });
    writeFileSync(file, '{"mqtt": "x", "https": 70000, "amqp": 5671}');
    assert.deepEqual(await readRememberedPorts(file), { amqp: 5671 });
    writeFileSync(file, 'not json');
    assert.deepEqual(await readRememberedPorts(file), {});
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
