import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { FileWriteError, writeFileAtomically } from '../../../src/runtime/files/atomic-write.js';
import { SmallTmpfs } from '../../helpers/small-tmpfs.js';

describe('writeFileAtomically on a disk that fills up', () => {
  const mounted = SmallTmpfs.mount(256);
  const disk = 'skip' in mounted ? undefined : mounted;
  const file = disk && path.join(disk.dir, 'state.json');

  before(async () => {
    if (file) await writeFile(file, 'previous\n');
  });
  after(() => disk?.unmount());

  test(
    'a failed write keeps the previous file, leaves no temporary file, and names the file',
    {
      skip: 'skip' in mounted ? mounted.skip : false,
    },
    async () => {
      disk!.fill();
      await assert.rejects(writeFileAtomically(file!, 'x'.repeat(64 * 1024), 0o600), (error: unknown) => {
        assert.ok(error instanceof FileWriteError);
        assert.equal(error.code, 'ENOSPC');
        assert.equal(error.message, `could not save ${file}: ENOSPC (no space left on device)`);
        return true;
      });
      assert.equal(await readFile(file!, 'utf8'), 'previous\n');
      assert.deepEqual((await readdir(disk!.dir)).sort(), ['filler', 'state.json'], 'no .tmp left behind');

      disk!.free();
      await writeFileAtomically(file!, 'next\n', 0o600);
      assert.equal(await readFile(file!, 'utf8'), 'next\n');
      assert.equal((await stat(file!)).mode & 0o777, 0o600);
    },
  );
});
