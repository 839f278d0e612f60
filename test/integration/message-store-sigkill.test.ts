import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { SqliteMessageStores } from '../../src/runtime/hub/endpoints/sqlite/sqlite-stores.js';

const CHILD = fileURLToPath(new URL('../helpers/store-child.js', import.meta.url));
const TRIALS = 20;

/** Runs the child until `until` says so from its output, then SIGKILLs it; resolves with its output. */
function runAndKill(args: string[], until: (output: string) => boolean, delayMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    let armed = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (!armed && until(output)) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(output);
      else reject(new Error(`the child exited ${code} before it was killed: ${errors}`));
    });
  });
}

test(`every append that resolved survives a SIGKILL at a random moment (${TRIALS} trials)`, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'store-sigkill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'messages.db');
  const lost: string[] = [];
  let confirmed = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const output = await runAndKill(
      ['append', file, `t${trial}`],
      (text) => text.includes('\n'),
      Math.floor(Math.random() * 400),
    );
    // only whole lines: the last one may have been cut by the kill
    const printed = output.split('\n').slice(0, -1);
    confirmed += printed.length;
    const stores = new SqliteMessageStores({ file, cleanupIntervalMs: 3_600_000 });
    const store = stores.open('$upstream', () => undefined);
    const held = new Set<string>();
    for (let next = store.read(); next; next = store.read()) {
      held.add(next.message.body.toString());
      store.acknowledge(next);
    }
    for (const n of printed) if (!held.has(`t${trial}-${n}`)) lost.push(`t${trial}-${n}`);
    stores.close();
  }
  assert.ok(confirmed > TRIALS, `the children confirmed only ${confirmed} appends`);
  assert.deepEqual(
    lost,
    [],
    `${lost.length} of ${confirmed} confirmed appends lost over ${TRIALS} SIGKILLed runs: ${lost.slice(0, 10).join(', ')}`,
  );
});

test('messages read and not acknowledged when the process was killed are sent again, counted as duplicates', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'store-sigkill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'messages.db');
  const output = await runAndKill(['read', file, '100'], (text) => text.includes('read '), 0);
  assert.match(output, /read 50/);
  const stores = new SqliteMessageStores({ file, cleanupIntervalMs: 3_600_000 });
  t.after(() => stores.close());
  assert.deepEqual(stores.persistedEndpoints(), ['$upstream']);
  const store = stores.open('$upstream', () => undefined);
  assert.equal(store.size, 100);
  const bodies: string[] = [];
  for (let next = store.read(); next; next = store.read()) bodies.push(next.message.body.toString());
  assert.deepEqual(
    bodies,
    Array.from({ length: 100 }, (_, i) => `r-${i}`),
  );
  assert.equal(store.duplicates, 50);
});
