import { join } from 'node:path';

/**
 * Where a process module keeps its state: <homedir>/modules/<name>/
 *   spec.json     the ModuleSpec and environment it was created with (mode 0600: env may hold secrets)
 *   run.json      the current or last run, written by iotedged (see module-store.ts)
 *   run/pid       the program's pid, written by the wrapper before it execs the program
 *   run/exit      the program's exit code, written by the wrapper when the program ends
 *   run/stdout, run/stderr   FIFOs carrying the program's output to iotedged
 *   logs/current.log, current.log.1 ...   the stored output (see log-format.ts)
 */
export interface ModulePaths {
  dir: string;
  spec: string;
  runRecord: string;
  run: string;
  pid: string;
  exit: string;
  stdoutFifo: string;
  stderrFifo: string;
  logs: string;
}

/** Module directories are root's (the daemon's) and its group's; other local users see nothing. */
export const MODULE_DIR_MODE = 0o750;

export const modulesRoot = (homedir: string): string => join(homedir, 'modules');

export function modulePaths(homedir: string, name: string): ModulePaths {
  const dir = join(modulesRoot(homedir), name);
  const run = join(dir, 'run');
  return {
    dir,
    spec: join(dir, 'spec.json'),
    runRecord: join(dir, 'run.json'),
    run,
    pid: join(run, 'pid'),
    exit: join(run, 'exit'),
    stdoutFifo: join(run, 'stdout'),
    stderrFifo: join(run, 'stderr'),
    logs: join(dir, 'logs'),
  };
}

/** A module name becomes a directory name: refuse anything that could leave <homedir>/modules. */
export function checkModuleName(name: string): void {
  if (!name || name.length > 128 || name === '.' || name === '..' || /[/\0]/.test(name)) {
    throw new Error(`invalid module name ${JSON.stringify(name)}: it must be 1-128 characters without "/"`);
  }
}
