import { join } from 'node:path';

export const CURRENT_LOG = 'current.log';

/** Log files are the owner's to write and its group's to read; other local users see none. */
export const LOG_FILE_MODE = 0o640;
export const LOG_DIR_MODE = 0o750;

/** The log files of a module, oldest first: current.log.<files-1> ... current.log.1, current.log. */
export function logFileNames(files: number): string[] {
  const names = [CURRENT_LOG];
  for (let index = 1; index < files; index++) names.unshift(`${CURRENT_LOG}.${index}`);
  return names;
}

export const logFilePaths = (dir: string, files: number): string[] =>
  logFileNames(files).map((name) => join(dir, name));

/**
 * A change counter with waiters: the writer bumps it after every append or rotation; a follower
 * remembers the version it has seen and sleeps only while nothing newer exists, so no append
 * between its last read and its wait goes unnoticed.
 */
export class ChangeSignal {
  private current = 0;
  private waiters = new Set<() => void>();

  get version(): number {
    return this.current;
  }

  bump(): void {
    this.current++;
    const waiters = [...this.waiters];
    this.waiters.clear();
    waiters.forEach((wake) => wake());
  }

  /** Resolves after a change newer than `seen`, after timeoutMs, or on abort. */
  wait(seen: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.current !== seen || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      signal?.addEventListener('abort', wake);
      this.waiters.add(wake);
    });
  }
}
