import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A tmpfs of a few hundred KiB on a fresh directory, to fill a disk for real (ENOSPC from the
 * kernel, not a mock). Mounting needs root (or CAP_SYS_ADMIN): `mount()` says why it cannot, so
 * that a test can skip with that reason.
 */
export class SmallTmpfs {
  private readonly filler: string;

  private constructor(
    readonly dir: string,
    private readonly ownDir: boolean,
  ) {
    this.filler = path.join(dir, 'filler');
  }

  /** Mounts on `at` (an existing directory) or on a new temporary one. */
  static mount(sizeKiB: number, at?: string): SmallTmpfs | { skip: string } {
    const dir = at ?? mkdtempSync(path.join(os.tmpdir(), 'iotedge-tmpfs-'));
    const run = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k,mode=0700`, 'tmpfs', dir], {
      encoding: 'utf8',
    });
    if (run.status !== 0) {
      if (!at) rmSync(dir, { recursive: true, force: true });
      return { skip: `cannot mount a tmpfs: ${(run.stderr || run.error?.message || 'mount failed').trim()}` };
    }
    return new SmallTmpfs(dir, !at);
  }

  /** Takes every free byte: the next file write fails with ENOSPC. */
  fill(): void {
    try {
      writeFileSync(this.filler, Buffer.alloc(64 * 1024 * 1024));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      return;
    }
    throw new Error(`${this.dir} did not fill up`);
  }

  /** Gives the space back. */
  free(): void {
    rmSync(this.filler, { force: true });
  }

  /** Unmounts it (whatever was written there goes), and removes the directory it made. */
  unmount(): void {
    spawnSync('umount', ['-l', this.dir]);
    if (this.ownDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
