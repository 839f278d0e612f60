import type { ChildProcess } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import type { HealthMonitor } from './health.js';
import { readExitFile } from './module-store.js';
import type { ModulePaths } from './paths.js';
import { isRunning, procInfo, sendSignal } from './proc.js';
import type { RunLogs } from './run-logs.js';

export interface ExitInfo {
  code?: number;
  time: Date;
  description?: string;
}

export interface SupervisionOptions {
  paths: ModulePaths;
  /** The wrapper's pid and process group, and its /proc start time. */
  pgid: number;
  pgidStart?: string;
  /** The program's pid and /proc start time. */
  pid: number;
  pidStart?: string;
  /** Present when this daemon spawned the wrapper: its exit is one more prompt signal. */
  child?: ChildProcess;
  logs: RunLogs;
  health?: HealthMonitor;
  now: () => Date;
  /** Fallback liveness poll, for exits the directory watch misses. */
  pollMs: number;
  /** How long to let the module's last output drain into the log after it ended. */
  drainMs: number;
}

/**
 * Watches one running module until it ends: the wrapper's exit file appearing (directory watch),
 * the wrapper child exiting, or (fallback) a poll finding neither wrapper nor program alive.
 * Then it kills what is left of the module's process group, lets the output drain, closes the log
 * and resolves `exited`. Works the same for a module this daemon started and one it adopted.
 */
export class Supervision {
  readonly exited: Promise<ExitInfo>;
  private resolveExited!: (info: ExitInfo) => void;
  private readonly watcher?: FSWatcher;
  private readonly timer: NodeJS.Timeout;
  private checking = false;
  private again = false;
  private ended = false;
  /** Set once SIGKILL was sent: a vanished wrapper then means exit code 137. */
  private killed = false;

  constructor(private readonly options: SupervisionOptions) {
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
    const check = () => void this.check();
    try {
      this.watcher = watch(options.paths.run, check);
      this.watcher.on('error', () => undefined);
    } catch {
      // no inotify: the poll below still notices the exit
    }
    options.child?.on('exit', check);
    this.timer = setInterval(check, options.pollMs);
    this.timer.unref();
    options.health?.start();
    check();
  }

  /** True once the module's end was seen (or supervision was given up): `exited` follows. */
  get ending(): boolean {
    return this.ended;
  }

  get pid(): number {
    return this.options.pid;
  }

  get unhealthy(): boolean {
    return this.options.health ? !this.options.health.healthy : false;
  }

  get healthDescription(): string | undefined {
    return this.options.health?.description;
  }

  /** SIGTERM (or another signal) to everything the module runs; the wrapper survives it. */
  async signalAll(signal: NodeJS.Signals): Promise<void> {
    const { pid, pidStart, pgid } = this.options;
    if (signal === 'SIGKILL') this.killed = true;
    const program = await procInfo(pid);
    sendSignal(-pgid, signal);
    // a program that moved to a process group of its own is signalled by itself
    if (program && program.pgrp !== pgid && (pidStart === undefined || program.start === pidStart))
      sendSignal(pid, signal);
  }

  /** SIGKILL to the program alone, so that the wrapper still records its exit. */
  killProgram(): void {
    this.killed = true;
    sendSignal(this.options.pid, 'SIGKILL');
  }

  /** Stops watching without touching the module (iotedged shutting down; it keeps running). */
  dispose(): void {
    this.ended = true;
    this.stopWatching();
    void this.options.logs.finish(0);
  }

  private stopWatching(): void {
    this.watcher?.close();
    clearInterval(this.timer);
    this.options.health?.stop();
  }

  private async check(): Promise<void> {
    if (this.ended) return;
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.again = false;
        const info = await this.detect().catch(() => undefined);
        if (info && !this.ended) await this.finish(info);
      } while (this.again && !this.ended);
    } finally {
      this.checking = false;
    }
  }

  private async detect(): Promise<ExitInfo | undefined> {
    const { paths, pid, pidStart, pgid, pgidStart, now } = this.options;
    const recorded = await readExitFile(paths);
    if (recorded) return { code: recorded.code, time: now() };
    if ((await isRunning(pid, pidStart)) || (await isRunning(pgid, pgidStart))) return undefined;
    // The wrapper writes the exit file before it ends: now that it has ended, look once more.
    const late = await readExitFile(paths);
    if (late) return { code: late.code, time: now() };
    if (this.killed) return { code: 137, time: now() };
    return { time: now(), description: "the module's processes ended without recording an exit code" };
  }

  private async finish(info: ExitInfo): Promise<void> {
    this.ended = true;
    this.stopWatching();
    // Whatever the program left behind in its process group ends with it, as in a container.
    sendSignal(-this.options.pgid, 'SIGKILL');
    await this.options.logs.finish(this.options.drainMs);
    this.resolveExited(info);
  }
}
