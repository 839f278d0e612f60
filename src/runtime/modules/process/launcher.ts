import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ModulePaths } from './paths.js';
import { readExitFile, readPidFile } from './module-store.js';
import { sendSignal } from './proc.js';
import type { RunAs } from './user-spec.js';
import { wrapperInvocation } from './wrapper.js';

/** Why a module could not be started, in the OS's words, and the shell's matching exit code. */
export interface LaunchFailure {
  code: number;
  description: string;
}

const OS_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
};

const osError = (code: string) => `${code} (${OS_TEXT[code] ?? 'cannot be used'})`;

async function executable(file: string): Promise<string | undefined> {
  try {
    const info = await stat(file);
    if (info.isDirectory()) return 'EISDIR';
    await access(file, constants.X_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EACCES';
  }
}

/**
 * Checks what exec would check, before anything is spawned, so that a missing or non-executable
 * command is reported with the OS error and the command's name rather than as "exit 127".
 */
export async function preflight(
  command: string,
  cwd: string,
  env: Record<string, string>,
): Promise<LaunchFailure | undefined> {
  try {
    if (!(await stat(cwd)).isDirectory())
      return { code: 126, description: `working directory ${cwd}: ${osError('ENOTDIR')}` };
  } catch (error) {
    return {
      code: 126,
      description: `working directory ${cwd}: ${osError((error as NodeJS.ErrnoException).code ?? 'ENOENT')}`,
    };
  }
  if (!command) return { code: 127, description: 'the module has an empty command' };
  if (command.includes('/')) {
    const problem = await executable(isAbsolute(command) ? command : resolve(cwd, command));
    if (!problem) return undefined;
    return {
      code: problem === 'ENOENT' ? 127 : 126,
      description: `cannot start ${command}: ${osError(problem)}`,
    };
  }
  const path = env.PATH ?? '';
  let denied: string | undefined;
  for (const dir of path.split(':')) {
    const problem = await executable(join(dir ? resolve(cwd, dir) : cwd, command));
    if (!problem) return undefined;
    if (problem !== 'ENOENT' && problem !== 'ENOTDIR') denied ??= problem;
  }
  if (denied) return { code: 126, description: `cannot start ${command}: ${osError(denied)}` };
  return {
    code: 127,
    description: `cannot start ${command}: ${osError('ENOENT')}, not found in PATH=${path}`,
  };
}

const exec = promisify(execFile);

export async function ensureFifos(paths: ModulePaths): Promise<void> {
  const missing: string[] = [];
  for (const fifo of [paths.stdoutFifo, paths.stderrFifo]) {
    const info = await stat(fifo).catch(() => undefined);
    if (!info?.isFIFO()) missing.push(fifo);
  }
  // Node has no mkfifo(3); mkfifo(1) is POSIX.
  if (missing.length) await exec('mkfifo', ['-m', '600', ...missing]);
}

/**
 * Opens the FIFOs read-write for the program's stdout and stderr: a FIFO opened read-write always
 * has a reader (itself), so the program never gets SIGPIPE while iotedged is down; its writes
 * block once the pipe is full until iotedged drains it again.
 */
export function openProgramEnds(paths: ModulePaths): [number, number] {
  const out = openSync(paths.stdoutFifo, constants.O_RDWR);
  try {
    return [out, openSync(paths.stderrFifo, constants.O_RDWR)];
  } catch (error) {
    closeSync(out);
    throw error;
  }
}

export interface Launched {
  child: ChildProcess;
  /** The wrapper's pid: the session and process group of the module. */
  pgid: number;
  pid: number;
}

export interface LaunchRequest {
  paths: ModulePaths;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** From openProgramEnds; closed here once the wrapper holds them. */
  ends: [number, number];
  /** Whom the wrapper and the program run as (settings.user); default: iotedged's own user. */
  runAs?: RunAs;
  pidTimeoutMs?: number;
}

/**
 * Creates the run's pid and exit files, empty, for the wrapper to write through the fds it is
 * given (it may run as a user who cannot open them). A symbolic link in their place is refused.
 */
function openRunFiles(paths: ModulePaths): [number, number] {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
  const pid = openSync(paths.pid, flags, 0o640);
  try {
    return [pid, openSync(paths.exit, flags, 0o640)];
  } catch (error) {
    closeSync(pid);
    throw error;
  }
}

const delay = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Spawns the wrapper and waits for the program's pid, or for the reason it did not start. */
export async function launch(request: LaunchRequest): Promise<Launched | LaunchFailure> {
  const { paths, ends, runAs } = request;
  const wrapper = wrapperInvocation(paths.run, request.env, request.command, request.args);
  let child: ChildProcess;
  let runFiles: number[] = [];
  try {
    runFiles = openRunFiles(paths);
    child = spawn('/bin/sh', wrapper.argv, {
      cwd: request.cwd,
      env: wrapper.env,
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore', ...ends, ...runFiles],
      // the directory is entered before the user changes: a cwd the user cannot reach still works
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
  } finally {
    [...ends, ...runFiles].forEach((fd) => closeSync(fd));
  }
  let spawnError: Error | undefined;
  let wrapperExit: number | null | undefined;
  child.on('error', (error) => (spawnError = error));
  child.on('exit', (code, signal) => (wrapperExit = code ?? (signal ? 128 : null)));
  child.unref();
  const started = Date.now();
  const deadline = started + (request.pidTimeoutMs ?? 10_000);
  for (;;) {
    if (spawnError)
      return { code: 127, description: `cannot start the module's wrapper /bin/sh: ${spawnError.message}` };
    const pid = await readPidFile(paths);
    if (pid && child.pid) return { child, pgid: child.pid, pid };
    if (wrapperExit !== undefined) {
      const exit = await readExitFile(paths);
      return {
        code: exit?.code ?? 127,
        description: `the module's wrapper ended before the program started (exit ${exit?.code ?? wrapperExit})`,
      };
    }
    if (Date.now() > deadline) {
      if (child.pid) sendSignal(-child.pid, 'SIGKILL');
      return { code: 127, description: `the program did not start within ${(deadline - started) / 1000} s` };
    }
    await delay(5);
  }
}
