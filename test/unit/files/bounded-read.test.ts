import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import { FileReadError, readBoundedText } from '../../../src/runtime/files/bounded-read.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));
const tempDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'iotedge-bounded-read-'));
  dirs.push(dir);
  return dir;
};

/** Fails instead of hanging when `promise` does not settle in time. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const refusal = (code: string, message: string) => (error: unknown) => {
  assert.ok(error instanceof FileReadError, String(error));
  assert.equal(error.code, code);
  assert.equal(error.message, message);
  return true;
};

test('a regular file within the limit is read whole', async () => {
  const file = path.join(await tempDir(), 'a.yaml');
  await writeFile(file, 'hostname: x\n');
  assert.equal(await readBoundedText(file, { maxBytes: 12 }), 'hostname: x\n');
});

test('a file over the limit is refused, naming the file and the limit', async () => {
  const file = path.join(await tempDir(), 'big.pem');
  await writeFile(file, Buffer.alloc(2048));
  await assert.rejects(
    readBoundedText(file, { maxBytes: 1024 }),
    refusal('EFBIG', `${file}: is larger than 1 KiB`),
  );
});

test('a FIFO is refused at once instead of waiting for a writer', async () => {
  const fifo = path.join(await tempDir(), 'config.yaml');
  execFileSync('mkfifo', [fifo]);
  try {
    await within(
      assert.rejects(
        readBoundedText(fifo, { maxBytes: 1024 }),
        refusal('EFTYPE', `${fifo}: is a FIFO (named pipe), not a regular file`),
      ),
      2000,
      'reading a FIFO',
    );
  } finally {
    // a reader stuck in open() (as readFile would be) is released
    closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
  }
});

test('/dev/zero, a directory and a missing file are refused with what they are', async () => {
  await within(
    assert.rejects(
      readBoundedText('/dev/zero', { maxBytes: 1024 }),
      refusal('EFTYPE', '/dev/zero: is a character device, not a regular file'),
    ),
    2000,
    'reading /dev/zero',
  );
  const dir = await tempDir();
  await assert.rejects(
    readBoundedText(dir, { maxBytes: 1024 }),
    refusal('EISDIR', `${dir}: is a directory, not a regular file`),
  );
  const missing = path.join(dir, 'absent');
  await assert.rejects(
    readBoundedText(missing, { maxBytes: 1024 }),
    refusal('ENOENT', `${missing}: no such file (ENOENT)`),
  );
});
