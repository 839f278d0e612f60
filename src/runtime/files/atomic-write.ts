import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { describeOsError } from './os-error.js';

/** A file that could not be saved; `code` is the OS error's (ENOSPC, EACCES, ...). */
export class FileWriteError extends Error {
  readonly code: string | undefined;

  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`could not save ${file}: ${describeOsError(cause)}`, { cause });
    this.name = 'FileWriteError';
    this.code = (cause as NodeJS.ErrnoException).code;
  }
}

/**
 * Replaces `file` with `data`: written to a temporary file beside it, flushed to the disk, then
 * renamed over it, so that a reader (or the next start after a crash or power loss) sees the old
 * content or the new, never a part. When any step fails (a full disk), the temporary file is
 * removed, `file` keeps its old content, and a FileWriteError names `file` and the OS error.
 * The file is created with `mode` less the process umask; with `exactMode` it gets `mode` itself.
 */
export async function writeFileAtomically(
  file: string,
  data: string | Buffer,
  mode: number,
  options: { exactMode?: boolean } = {},
): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', mode);
    try {
      if (options.exactMode) await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new FileWriteError(file, error);
  }
  await syncDirectory(path.dirname(file));
}

/** Makes a rename (or a new file) in `directory` durable; file systems that cannot sync a directory are let be. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // EINVAL on file systems without directory sync: the rename is as durable as they make it
  } finally {
    await handle.close();
  }
}
