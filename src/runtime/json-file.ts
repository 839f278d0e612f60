import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { writeFileAtomically } from './files/atomic-write.js';
import { FileReadError, MiB, readBoundedText } from './files/bounded-read.js';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';

/** The daemon's own state files (twins, sessions, devices, deployment) are refused above this size. */
export const STATE_FILE_MAX_BYTES = 256 * MiB;

/**
 * The parsed file, or undefined when it does not exist; other problems (not a regular file, too
 * large, not JSON) name the file.
 */
export async function readJsonFile(file: string, maxBytes = STATE_FILE_MAX_BYTES): Promise<unknown> {
  let text: string;
  try {
    text = await readBoundedText(file, { maxBytes });
  } catch (error) {
    if (error instanceof FileReadError && error.code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Written to a temporary file and renamed, so a crash never leaves half a file behind, and a
 * failed write (a full disk) leaves the previous file and no temporary one. Private: the directory
 * is 0700 when created and the file 0600 (it may hold credentials).
 */
export async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomically(file, JSON.stringify(value, null, 2) + '\n', 0o600);
}

/**
 * Saves snapshots of one file, each write taking the newest snapshot when it starts: saves asked
 * for while a write runs share the one write after it (see GroupCommit). save() resolves once the
 * snapshot is on disk and rejects when its write failed (the file keeps its previous content).
 */
export class JsonFileWriter {
  private readonly commits: GroupCommit;

  constructor(
    readonly file: string,
    snapshot: () => unknown,
    options: GroupCommitOptions = {},
  ) {
    this.commits = new GroupCommit(() => writeJsonAtomically(file, snapshot()), options);
  }

  save(): Promise<void> {
    return this.commits.run();
  }

  /** Resolves once every save asked for has been tried (once more after a failure); never rejects. */
  flush(): Promise<void> {
    return this.commits.flush();
  }
}
