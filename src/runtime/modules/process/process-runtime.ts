import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import {
  ModuleNotFoundError,
  type LogLine,
  type LogOptions,
  type ModuleEvent,
  type ModuleRuntime,
  type ModuleSpec,
  type ModuleState,
  type ProcessSettings,
} from '../types.js';
import { judgeRun } from './adoption.js';
import { HealthMonitor } from './health.js';
import { ensureFifos } from './launcher.js';
import { ChangeSignal } from './log-files.js';
import type { LogLossEvent } from './log-losses.js';
import { readLogs } from './log-reader.js';
import {
  listModuleNames,
  makeModuleDirectories,
  moduleExists,
  readExitFile,
  readPidFile,
  readRun,
  readSpec,
  writeRun,
  writeSpec,
  type ExitRecord,
  type RunRecord,
  type StoredSpec,
} from './module-store.js';
import { checkModuleName, modulePaths, modulesRoot, type ModulePaths } from './paths.js';
import { bootId, isRunning, procInfo } from './proc.js';
import { resolveRunAs } from './run-as.js';
import { RunLogs } from './run-logs.js';
import { observedState, unreadableState } from './status.js';
import { startRun } from './start-run.js';
import { Supervision, type ExitInfo } from './supervision.js';

export interface ProcessRuntimeOptions {
  homedir: string;
  /** Size at which a module's current.log is rotated (default 10 MiB). */
  logMaxBytes?: number;
  /** Log files kept per module, current.log included (default 3). */
  logFiles?: number;
  now?: () => Date;
  /** Fallback poll for module exits (default 1000 ms); exits are normally seen at once. */
  exitPollMs?: number;
  /** The daemon's log: told when a module's output cannot be written (a full disk) and when it can again. */
  log?: (line: string) => void;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** After SIGKILL to the program, how long the wrapper gets to record the exit. */
const KILL_WAIT_MS = 2000;
/** After the program ended, how long its last output may take to reach the log. */
const DRAIN_MS = 500;

/** A module this runtime is watching right now, with the run record it owns while it runs. */
interface Running {
  supervision: Supervision;
  run: RunRecord;
  /** Writes `run` to run.json; writes are queued, so the last one always has every change. */
  save(): Promise<void>;
  /** Settles once the exit is in run.json and announced. */
  settled: Promise<void>;
}

const delay = (ms: number) =>
  new Promise<void>((done) => {
    setTimeout(done, ms).unref();
  });

async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  await Promise.race([promise.then(() => (done = true)), delay(ms)]);
  return done;
}

const toRecord = (info: ExitInfo): ExitRecord => ({
  ...(info.code !== undefined ? { code: info.code } : {}),
  time: info.time.toISOString(),
  ...(info.description ? { description: info.description } : {}),
});

/**
 * Modules that are plain programs, supervised by iotedged. Each run goes through a small detached
 * /bin/sh wrapper (wrapper.ts), so modules outlive iotedged and the next iotedged on the same
 * homedir adopts them; output flows through per-module FIFOs into rotated log files
 * (log-format.ts). A missing command makes its module `failed` with the OS error; start() does
 * not throw for it. close() releases the runtime and leaves the modules running.
 */
export class ProcessRuntime implements ModuleRuntime {
  private readonly homedir: string;
  private readonly logMaxBytes: number;
  private readonly logFiles: number;
  private readonly now: () => Date;
  private readonly exitPollMs: number;
  private readonly log: (line: string) => void;
  private readonly running = new Map<string, Running>();
  private readonly changes = new Map<string, ChangeSignal>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly listeners: ((event: ModuleEvent) => void)[] = [];
  private readonly ready: Promise<void>;
  private boot = '';
  private closed = false;

  constructor(options: ProcessRuntimeOptions) {
    this.homedir = options.homedir;
    this.logMaxBytes = options.logMaxBytes ?? 10 * 1024 * 1024;
    this.logFiles = Math.max(1, options.logFiles ?? 3);
    this.now = options.now ?? (() => new Date());
    this.exitPollMs = options.exitPollMs ?? 1000;
    this.log = options.log ?? (() => undefined);
    // Adoption starts at once, so that a listener added right after construction hears every exit.
    this.ready = this.adoptAll();
    this.ready.catch(() => undefined);
  }

  /** A process module's user must exist (and be one iotedged may run programs as). */
  async check(spec: ModuleSpec): Promise<{ field: string; problem: string } | undefined> {
    const user = spec.type === 'process' ? (spec.settings as ProcessSettings).user : undefined;
    if (user === undefined) return undefined;
    try {
      await resolveRunAs(user);
      return undefined;
    } catch (error) {
      return { field: 'settings.user', problem: (error as Error).message };
    }
  }

  onEvent(listener: (event: ModuleEvent) => void): void {
    this.listeners.push(listener);
  }

  async list(): Promise<ModuleState[]> {
    await this.open();
    const names = await listModuleNames(modulesRoot(this.homedir));
    const states = await Promise.all(names.map((name) => this.stateOf(name)));
    return states.filter((state): state is ModuleState => state !== undefined);
  }

  async create(spec: ModuleSpec, env: Record<string, string>): Promise<void> {
    checkModuleName(spec.name);
    if (spec.type !== 'process')
      throw new Error(`module ${spec.name}: the process runtime cannot run type "${spec.type}"`);
    const settings = spec.settings as ProcessSettings;
    if (typeof settings.command !== 'string' || !Array.isArray(settings.args)) {
      throw new Error(`module ${spec.name}: settings.command must be a string and settings.args an array`);
    }
    await this.open();
    await this.locked(spec.name, async () => {
      const paths = modulePaths(this.homedir, spec.name);
      if (await moduleExists(paths)) throw new Error(`module ${spec.name} already exists: remove it first`);
      // whatever an interrupted create or remove left behind must not pass for this module's past
      await rm(paths.dir, { recursive: true, force: true });
      await makeModuleDirectories(modulesRoot(this.homedir), paths);
      await ensureFifos(paths);
      await writeSpec(paths, { spec, env });
    });
  }

  async start(name: string): Promise<void> {
    await this.open();
    await this.locked(name, async () => {
      const paths = modulePaths(this.homedir, name);
      const stored = await readSpec(paths, name);
      const current = this.running.get(name);
      if (current && !current.supervision.ending) return;
      // it has just ended: let its exit be recorded before the next run begins
      await current?.settled;
      // A run that is not supervised yet (adoption failed earlier): never start a second copy.
      await this.adopt(name);
      if (this.running.has(name)) return;
      await this.launch(name, paths, stored);
    });
  }

  async stop(name: string, graceMs: number): Promise<void> {
    await this.open();
    await this.locked(name, async () => {
      const paths = modulePaths(this.homedir, name);
      if (!(await moduleExists(paths))) throw new ModuleNotFoundError(name);
      const running = this.running.get(name);
      if (!running) return;
      running.run.stopRequested = true;
      await running.save();
      await running.supervision.signalAll('SIGTERM');
      await this.killAfter(running, graceMs);
    });
  }

  async remove(name: string): Promise<void> {
    await this.open();
    await this.locked(name, async () => {
      const paths = modulePaths(this.homedir, name);
      if (!(await moduleExists(paths))) throw new ModuleNotFoundError(name);
      const running = this.running.get(name);
      if (running) {
        running.run.stopRequested = true;
        await this.killAfter(running, 0);
      }
      await rm(paths.dir, { recursive: true, force: true });
      // followers of this module's logs notice that they are gone
      this.changes.get(name)?.bump();
      this.changes.delete(name);
    });
  }

  async *logs(name: string, options: LogOptions, signal?: AbortSignal): AsyncGenerator<LogLine> {
    await this.open();
    const paths = modulePaths(this.homedir, name);
    if (!(await moduleExists(paths))) throw new ModuleNotFoundError(name);
    const request = {
      ...options,
      dir: paths.logs,
      files: this.logFiles,
      changes: this.changeSignal(name),
      now: this.now,
    };
    yield* readLogs(request, signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.ready.catch(() => undefined);
    await Promise.all([...this.locks.values()].map((lock) => lock.catch(() => undefined)));
    for (const running of this.running.values()) running.supervision.dispose();
    this.running.clear();
  }

  private async open(): Promise<void> {
    if (this.closed) throw new Error('the process module runtime is closed');
    await this.ready;
  }

  /** Runs one operation at a time per module. */
  private locked<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    this.locks.set(name, tail);
    void tail.then(() => {
      if (this.locks.get(name) === tail) this.locks.delete(name);
    });
    return result;
  }

  private emit(event: ModuleEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  private changeSignal(name: string): ChangeSignal {
    let signal = this.changes.get(name);
    if (!signal) this.changes.set(name, (signal = new ChangeSignal()));
    return signal;
  }

  private programEnv(env: Record<string, string>): Record<string, string> {
    return 'PATH' in env ? { ...env } : { ...env, PATH: process.env.PATH ?? DEFAULT_PATH };
  }

  private openLogs(name: string, paths: ModulePaths): Promise<RunLogs> {
    const changes = this.changeSignal(name);
    const options = {
      maxBytes: this.logMaxBytes,
      files: this.logFiles,
      now: this.now,
      onChange: () => changes.bump(),
      onLoss: (event: LogLossEvent) =>
        this.log(
          event.kind === 'failing'
            ? `module ${name}: its output cannot be written to its log (${event.reason}); lines are dropped and counted`
            : `module ${name}: its log is written again; ${event.lost} line(s) of output were lost (${event.reason})`,
        ),
    };
    return RunLogs.open(paths, options);
  }

  private async stateOf(name: string): Promise<ModuleState | undefined> {
    const paths = modulePaths(this.homedir, name);
    let stored: StoredSpec;
    try {
      stored = await readSpec(paths, name);
    } catch (error) {
      // a directory without spec.json is a create or remove in progress, not a module
      if (error instanceof ModuleNotFoundError) return undefined;
      return unreadableState(name, (error as Error).message);
    }
    const running = this.running.get(name);
    try {
      const run = running?.run ?? (await readRun(paths));
      const live = running && {
        pid: running.supervision.pid,
        unhealthy: running.supervision.unhealthy,
        healthDescription: running.supervision.healthDescription,
      };
      return observedState(name, stored, run, live);
    } catch (error) {
      return unreadableState(name, (error as Error).message);
    }
  }

  /** SIGKILL to the program once graceMs have passed, then to the whole group if that is not enough. */
  private async killAfter(running: Running, graceMs: number): Promise<void> {
    if (await within(running.settled, graceMs)) return;
    running.supervision.killProgram();
    if (await within(running.settled, KILL_WAIT_MS)) return;
    await running.supervision.signalAll('SIGKILL');
    await running.settled;
  }

  private async launch(name: string, paths: ModulePaths, stored: StoredSpec): Promise<void> {
    // directories an earlier release made readable by everyone are closed at the next start
    await makeModuleDirectories(modulesRoot(this.homedir), paths);
    const started = await startRun(paths, stored, {
      bootId: this.boot,
      now: this.now,
      env: this.programEnv(stored.env),
      openLogs: () => this.openLogs(name, paths),
      drainMs: DRAIN_MS,
    });
    if (!started.logs) return this.emit({ name, kind: 'exited' });
    this.supervise(name, paths, stored, started.run, started.logs, started.child);
    this.emit({ name, kind: 'started' });
  }

  private supervise(
    name: string,
    paths: ModulePaths,
    stored: StoredSpec,
    run: RunRecord,
    logs: RunLogs,
    child?: ChildProcess,
  ): void {
    const settings = stored.spec.settings as ProcessSettings;
    const context = { cwd: settings.cwd ?? paths.dir, env: this.programEnv(stored.env), runAs: run.runAs };
    const health =
      settings.healthProbe &&
      new HealthMonitor(settings.healthProbe, context, () => this.emit({ name, kind: 'health' }));
    const supervision = new Supervision({
      paths,
      pgid: run.pgid ?? run.pid ?? 0,
      pgidStart: run.pgidStart,
      pid: run.pid ?? 0,
      pidStart: run.pidStart,
      child,
      logs,
      health,
      now: this.now,
      pollMs: this.exitPollMs,
      drainMs: DRAIN_MS,
    });
    let saving = Promise.resolve();
    const save = () => {
      saving = saving.then(() => writeRun(paths, run)).catch(() => undefined);
      return saving;
    };
    const entry: Running = {
      supervision,
      run,
      save,
      settled: supervision.exited.then(async (info) => {
        run.exit = toRecord(info);
        await save();
        if (this.running.get(name) === entry) this.running.delete(name);
        this.emit({ name, kind: 'exited' });
      }),
    };
    this.running.set(name, entry);
  }

  /** At construction: adopt the modules a previous iotedged left running, settle the others. */
  private async adoptAll(): Promise<void> {
    this.boot = await bootId();
    const names = await listModuleNames(modulesRoot(this.homedir));
    // one module's trouble must not keep the others from being adopted
    await Promise.all(names.map((name) => this.adopt(name).catch(() => undefined)));
  }

  private async adopt(name: string): Promise<void> {
    const paths = modulePaths(this.homedir, name);
    const run = await readRun(paths);
    if (!run || run.exit) return;
    let exit = await readExitFile(paths);
    const pid = exit ? undefined : (run.pid ?? (await readPidFile(paths)));
    const running = pid !== undefined && run.bootId === this.boot && (await isRunning(pid, run.pidStart));
    // the wrapper writes run/exit before it ends: a run found ended may have just written it
    if (!exit && !running) exit = await readExitFile(paths);
    const verdict = judgeRun(run, { boot: this.boot, exit, pid, running, now: this.now() });
    if ('exit' in verdict) return writeRun(paths, { ...run, exit: verdict.exit });
    const stored = await readSpec(paths, name);
    const adopted: RunRecord = { ...run, pid: verdict.adopt };
    if (adopted.pgid === undefined) {
      adopted.pgid = (await procInfo(verdict.adopt))?.pgrp ?? verdict.adopt;
      await writeRun(paths, adopted);
    }
    this.supervise(name, paths, stored, adopted, await this.openLogs(name, paths));
  }
}
