import type { ModuleRuntime, ModuleSpec } from '../modules/types.js';
import type { Command } from './plan.js';
import type { RestartStats } from './restart-policy.js';

export interface ExecutorDeps {
  runtimeFor(type: ModuleSpec['type']): ModuleRuntime;
  /** The runtime that currently holds a module, by name (for commands that carry no spec). */
  runtimeOf(name: string): ModuleRuntime;
  environmentFor(spec: ModuleSpec): Promise<Record<string, string>>;
  stats: Map<string, RestartStats>;
  now(): Date;
  stopGraceMs: number;
  /** Per-command budget, so one stuck step cannot hold up the others forever. */
  commandTimeoutMs: number;
  log(line: string): void;
}

const moduleOf = (command: Command): string => ('spec' in command ? command.spec.name : command.name);

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function runCommand(command: Command, deps: ExecutorDeps): Promise<void> {
  switch (command.kind) {
    case 'create': {
      await deps.runtimeFor(command.spec.type).create(command.spec, await deps.environmentFor(command.spec));
      return;
    }
    case 'recreate': {
      const runtime = deps.runtimeOf(command.spec.name);
      await runtime.stop(command.spec.name, deps.stopGraceMs);
      await runtime.remove(command.spec.name);
      await deps.runtimeFor(command.spec.type).create(command.spec, await deps.environmentFor(command.spec));
      return;
    }
    case 'start':
      return deps.runtimeOf(command.name).start(command.name);
    case 'stop':
      return deps.runtimeOf(command.name).stop(command.name, deps.stopGraceMs);
    case 'remove': {
      const runtime = deps.runtimeOf(command.name);
      await runtime.stop(command.name, deps.stopGraceMs);
      await runtime.remove(command.name);
      deps.stats.delete(command.name);
      return;
    }
    case 'restart': {
      const runtime = deps.runtimeOf(command.name);
      try {
        await runtime.stop(command.name, deps.stopGraceMs);
        await runtime.start(command.name);
      } finally {
        // A restart counts even when the start fails, so the backoff keeps growing.
        const previous = deps.stats.get(command.name);
        deps.stats.set(command.name, {
          restartCount: (previous?.restartCount ?? 0) + 1,
          lastRestartTime: deps.now(),
        });
      }
      return;
    }
    case 'reset-stats':
      deps.stats.delete(command.name);
      return;
  }
}

/**
 * Runs the plan's groups in startupOrder: a group starts only when the previous one is done.
 * Inside a group, modules proceed in parallel (a slow module does not hold up the others) while
 * each module's own commands keep their order. A failing command is recorded and the rest go on;
 * the failures are returned, one line each (reported as status 500).
 */
export async function executePlan(groups: readonly Command[][], deps: ExecutorDeps): Promise<string[]> {
  const failures: string[] = [];
  for (const group of groups) {
    const perModule = new Map<string, Command[]>();
    for (const command of group) {
      const name = moduleOf(command);
      perModule.set(name, [...(perModule.get(name) ?? []), command]);
    }
    await Promise.all(
      [...perModule.entries()].map(async ([name, commands]) => {
        for (const command of commands) {
          try {
            await withTimeout(runCommand(command, deps), deps.commandTimeoutMs, `${command.kind} ${name}`);
          } catch (error) {
            const message = `${command.kind} ${name}: ${(error as Error).message}`;
            deps.log(`agent: ${message}`);
            failures.push(message);
            break;
          }
        }
      }),
    );
  }
  return failures;
}
