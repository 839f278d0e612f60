import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The parsed file, or undefined when it does not exist; other problems name the file. */
export async function readJsonFile(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

/**
 * Written to a temporary file and renamed, so a crash never leaves half a file behind. Private:
 * the directory is 0700 when created and the file 0600 (it may hold credentials).
 */
export async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  await rename(temporary, file);
}

/** Saves snapshots of one file in order, so a later snapshot is never overwritten by an earlier one. */
export class JsonFileWriter {
  private writes: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  save(snapshot: unknown): void {
    this.writes = this.writes.then(() => writeJsonAtomically(this.file, snapshot));
  }

  flush(): Promise<void> {
    return this.writes;
  }
}
