import { getSystemErrorMap } from 'node:util';

/**
 * An OS error in a few words, with its code: `ENOSPC (no space left on device)`. Never the
 * error's own message, which may quote a path the caller did not mean to show.
 */
export function describeOsError(error: unknown): string {
  const { code, errno } = (error ?? {}) as NodeJS.ErrnoException;
  const known = typeof errno === 'number' ? getSystemErrorMap().get(errno) : undefined;
  if (known) return `${known[0]} (${known[1]})`;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : String(error);
}

/** The errno code of an error (ENOENT, ENOSPC, ...), or undefined. */
export const osErrorCode = (error: unknown): string | undefined =>
  (error as NodeJS.ErrnoException | undefined)?.code;
