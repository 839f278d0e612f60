import { chmod, mkdir, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { writeFileAtomically } from '../../files/atomic-write.js';
import { ModuleNotFoundError, type ModuleSpec } from '../types.js';
import { MODULE_DIR_MODE, type ModulePaths } from './paths.js';
import type { RunAs } from './user-spec.js';

/** What create() was given, kept so that start() after a daemon restart runs the same thing. */
export interface StoredSpec {
  spec: ModuleSpec;
  env: Record<string, string>;
}

export interface ExitRecord {
  /** Unknown when the module's processes vanished without the wrapper recording a code. */
  code?: number;
  time: string;
  description?: string;
}

/** The current or last run of a module, written by iotedged (run.json). */
export interface RunRecord {
  /** The kernel's boot id at launch: a pid from an earlier boot means nothing. */
  bootId: string;
  startTime: string;
  /** The wrapper's pid, which is also the process group of everything the module runs. */
  pgid?: number;
  pgidStart?: string;
  /** The program's pid and its /proc start time, to tell it from a later process reusing the pid. */
  pid?: number;
  pidStart?: string;
  /** Set by stop(): the exit that follows is a requested stop, reported as `stopped`. */
  stopRequested: boolean;
  /** Whom the program runs as (settings.user), for its health probe too; absent: iotedged's user. */
  runAs?: RunAs;
  exit?: ExitRecord;
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

export async function writeSpec(paths: ModulePaths, stored: StoredSpec): Promise<void> {
  await writeFileAtomically(paths.spec, `${JSON.stringify(stored, null, 2)}\n`, 0o600);
}

export async function readSpec(paths: ModulePaths, name: string): Promise<StoredSpec> {
  let text: string;
  try {
    text = await readFile(paths.spec, 'utf8');
  } catch (error) {
    if (isMissing(error)) throw new ModuleNotFoundError(name);
    throw error;
  }
  try {
    return JSON.parse(text) as StoredSpec;
  } catch (error) {
    throw new Error(`${paths.spec} is not valid JSON: ${(error as Error).message}`);
  }
}

export async function moduleExists(paths: ModulePaths): Promise<boolean> {
  return stat(paths.spec).then(
    () => true,
    () => false,
  );
}

export async function readRun(paths: ModulePaths): Promise<RunRecord | undefined> {
  try {
    return JSON.parse(await readFile(paths.runRecord, 'utf8')) as RunRecord;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new Error(`${paths.runRecord} is unreadable: ${(error as Error).message}`);
  }
}

export async function writeRun(paths: ModulePaths, run: RunRecord): Promise<void> {
  await writeFileAtomically(paths.runRecord, `${JSON.stringify(run)}\n`, 0o640);
}

/** Reads a file the wrapper wrote with one `echo N`: complete only once its newline is there. */
async function readNumberFile(file: string): Promise<{ value: number; mtime: Date } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    if (!/^\d+\n/.test(text)) return undefined;
    return { value: Number.parseInt(text, 10), mtime: info.mtime };
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

export async function readPidFile(paths: ModulePaths): Promise<number | undefined> {
  return (await readNumberFile(paths.pid))?.value;
}

export async function readExitFile(paths: ModulePaths): Promise<{ code: number; time: Date } | undefined> {
  const found = await readNumberFile(paths.exit);
  return found && { code: found.value, time: found.mtime };
}

/**
 * Makes the directories of a new module: the module's own, its logs and run directories, all
 * 0750 (no other local user reads a module's logs or its files), as is <homedir>/modules.
 */
export async function makeModuleDirectories(root: string, paths: ModulePaths): Promise<void> {
  for (const dir of [root, paths.dir, paths.logs, paths.run]) {
    await mkdir(dir, { recursive: true, mode: MODULE_DIR_MODE });
    await chmod(dir, MODULE_DIR_MODE);
  }
}

/** Forgets the wrapper's files of the previous run before a new one starts. */
export async function clearRunFiles(paths: ModulePaths): Promise<void> {
  await mkdir(paths.run, { recursive: true, mode: MODULE_DIR_MODE });
  await Promise.all([paths.pid, paths.exit].map((file) => unlink(file).catch(() => undefined)));
}

export async function listModuleNames(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}
