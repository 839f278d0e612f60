import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';

import { describeOsError } from './os-error.js';

/**
 * A file that could not be read, and why, in words that follow the file's name: `reason` is
 * "no such file (ENOENT)", "permission denied (EACCES)", "is a FIFO (named pipe), not a regular
 * file", "is larger than 1 MiB", ...
 * `code` is the OS error's (ENOENT, EACCES, ...), EISDIR for a directory, EFTYPE for anything else
 * that is not a regular file, and EFBIG for a file over the size limit.
 */
export class FileReadError extends Error {
  constructor(
    readonly file: string,
    readonly code: string,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(`${file}: ${reason}`, cause === undefined ? undefined : { cause });
    this.name = 'FileReadError';
  }
}

export interface BoundedReadOptions {
  /** Larger files are refused without being read. */
  maxBytes: number;
  signal?: AbortSignal;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;

const OS_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  ENOTDIR: 'no such file (a part of the path is not a directory)',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'too many levels of symbolic links',
};

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a plain file';
}

export function sizeText(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} bytes`;
}

const osProblem = (file: string, error: unknown): FileReadError => {
  const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
  const known = OS_REASONS[code];
  return new FileReadError(file, code, known ? `${known} (${code})` : describeOsError(error), error);
};

/** Refuses what is not a regular file, or is too large, from its status alone. */
function check(file: string, info: Stats, maxBytes: number): void {
  if (!info.isFile()) {
    const code = info.isDirectory() ? 'EISDIR' : 'EFTYPE';
    throw new FileReadError(file, code, `is ${kindOf(info)}, not a regular file`);
  }
  if (info.size > maxBytes) throw tooLarge(file, maxBytes);
}

const tooLarge = (file: string, maxBytes: number) =>
  new FileReadError(file, 'EFBIG', `is larger than ${sizeText(maxBytes)}`);

/**
 * Reads a file whose name came from outside (config.yaml, a setting, a command line): only a
 * regular file, and at most `maxBytes`. A FIFO (which would block the reader forever), a device
 * such as /dev/zero (which never ends) or a directory is refused before anything is read; a file
 * that grows past the limit while it is read is refused too. Errors are FileReadErrors.
 */
export async function readBoundedFile(file: string, options: BoundedReadOptions): Promise<Buffer> {
  const { maxBytes, signal } = options;
  try {
    check(file, await stat(file), maxBytes);
  } catch (error) {
    throw error instanceof FileReadError ? error : osProblem(file, error);
  }
  let handle: FileHandle;
  try {
    // non-blocking: should the file have become a FIFO since, opening it must not wait for a writer
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw osProblem(file, error);
  }
  try {
    check(file, await handle.stat(), maxBytes);
    return await readUpTo(file, handle, maxBytes, signal);
  } catch (error) {
    throw error instanceof FileReadError || (error as Error).name === 'AbortError'
      ? error
      : osProblem(file, error);
  } finally {
    await handle.close();
  }
}

/** readBoundedFile as UTF-8 text. */
export async function readBoundedText(file: string, options: BoundedReadOptions): Promise<string> {
  return (await readBoundedFile(file, options)).toString('utf8');
}

async function readUpTo(
  file: string,
  handle: FileHandle,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    signal?.throwIfAborted();
    const chunk = Buffer.allocUnsafe(Math.min(64 * KiB, maxBytes - total + 1));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) throw tooLarge(file, maxBytes);
  }
}
