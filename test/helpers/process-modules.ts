import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ProcessRuntime } from '../../src/runtime/modules/process/process-runtime.js';
import type {
  LogLine,
  LogOptions,
  ModuleEvent,
  ModuleSpec,
  ProcessSettings,
} from '../../src/runtime/modules/types.js';

/** The compiled process-module fixture (see its header for the steps it understands). */
export const MODULE_SCRIPT = fileURLToPath(new URL('../fixtures/process-module.js', import.meta.url));
export const RUNTIME_CHILD = fileURLToPath(new URL('../fixtures/process-runtime-child.js', import.meta.url));

export function processSpec(
  name: string,
  settings: Partial<ProcessSettings> & { steps?: string[] } = {},
): ModuleSpec {
  const { steps = [], ...rest } = settings;
  return {
    name,
    type: 'process',
    status: 'running',
    restartPolicy: 'always',
    imagePullPolicy: 'on-create',
    startupOrder: 0,
    version: '1.0',
    env: {},
    settings: { command: process.execPath, args: [MODULE_SCRIPT, ...steps], ...rest },
    configHash: `hash-${name}`,
  };
}

/** Temporary homedirs whose modules are killed (whole process groups) and files removed at the end. */
export class Homedirs {
  private readonly dirs: string[] = [];

  async make(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'iotedge-process-'));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    for (const dir of this.dirs) {
      await killModules(dir);
      await rm(dir, { recursive: true, force: true });
    }
  }
}

type RuntimeOptions = ConstructorParameters<typeof ProcessRuntime>[0];

/**
 * Opens ProcessRuntimes on temporary homedirs; registers an `after` hook of the calling test file
 * that closes them all, kills their modules and removes the homedirs.
 */
export function processRuntimes() {
  const homedirs = new Homedirs();
  const runtimes: ProcessRuntime[] = [];
  after(async () => {
    await Promise.all(runtimes.map((runtime) => runtime.close().catch(() => undefined)));
    await homedirs.cleanup();
  });
  const open = (homedir: string, options: Partial<RuntimeOptions> = {}) => {
    const runtime = new ProcessRuntime({ homedir, ...options });
    runtimes.push(runtime);
    return { runtime, events: new EventLog(runtime), homedir };
  };
  return {
    homedir: () => homedirs.make(),
    /** A runtime on a homedir that may already hold modules (as iotedged restarting finds it). */
    open,
    /** A runtime on a new, empty homedir. */
    fresh: async (options: Partial<RuntimeOptions> = {}) => open(await homedirs.make(), options),
  };
}

export async function killModules(homedir: string): Promise<void> {
  const root = join(homedir, 'modules');
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    const run = await readFile(join(root, name, 'run.json'), 'utf8').then(
      (text) => JSON.parse(text) as { pgid?: number; pid?: number },
      () => undefined,
    );
    for (const id of [run?.pgid && -run.pgid, run?.pid]) {
      try {
        if (id) process.kill(id, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export const delay = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Polls until `probe` returns something truthy; fails with `what` after timeoutMs. */
export async function eventually<T>(
  probe: () => Promise<T> | T,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

export async function collect(
  runtime: ProcessRuntime,
  name: string,
  options: LogOptions = {},
): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of runtime.logs(name, options)) lines.push(line);
  return lines;
}

export const texts = (lines: LogLine[]) => lines.map((line) => line.text);

export async function waitForLine(runtime: ProcessRuntime, name: string, text: string): Promise<void> {
  await eventually(
    async () => (await collect(runtime, name)).some((line) => line.text === text),
    `"${text}" in the logs of ${name}`,
  );
}

export async function stateOf(runtime: ProcessRuntime, name: string) {
  return (await runtime.list()).find((state) => state.name === name);
}

/** Records a runtime's events; `next` resolves on the first matching event from now on. */
export class EventLog {
  readonly events: ModuleEvent[] = [];
  private waiters: { match: (event: ModuleEvent) => boolean; resolve: () => void }[] = [];

  constructor(runtime: ProcessRuntime) {
    runtime.onEvent((event) => {
      this.events.push(event);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(event)) return true;
        waiter.resolve();
        return false;
      });
    });
  }

  next(name: string, kind: ModuleEvent['kind'], timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${kind} event for ${name} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match: (event) => event.name === name && event.kind === kind,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
