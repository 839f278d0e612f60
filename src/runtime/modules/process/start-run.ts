import type { ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import type { ProcessSettings } from '../types.js';
import { ensureFifos, launch, openProgramEnds, preflight, type LaunchFailure } from './launcher.js';
import { clearRunFiles, writeRun, type RunRecord, type StoredSpec } from './module-store.js';
import type { ModulePaths } from './paths.js';
import { procInfo } from './proc.js';
import { resolveRunAs, type RunAs } from './run-as.js';
import type { RunLogs } from './run-logs.js';

export interface StartRunContext {
  bootId: string;
  now: () => Date;
  /** The program's full environment. */
  env: Record<string, string>;
  openLogs: () => Promise<RunLogs>;
  /** How long a refused program's error output may take to reach the log. */
  drainMs: number;
}

/** A started run (to be supervised), or a run that could not start, with its exit recorded. */
export type StartedRun =
  { run: RunRecord; logs: RunLogs; child: ChildProcess } | { run: RunRecord; logs?: undefined };

/**
 * One run of a module: checks the command, records the run, opens the log plumbing, spawns the
 * wrapper and records the pids. run.json is written before the spawn, so an iotedged killed right
 * after it still finds (and adopts) the run.
 */
export async function startRun(
  paths: ModulePaths,
  stored: StoredSpec,
  context: StartRunContext,
): Promise<StartedRun> {
  const settings = stored.spec.settings as ProcessSettings;
  const cwd = settings.cwd ?? paths.dir;
  const { env, now } = context;
  await clearRunFiles(paths);
  let base: RunRecord = { bootId: context.bootId, startTime: now().toISOString(), stopRequested: false };
  const failed = async (failure: LaunchFailure) => {
    const run = {
      ...base,
      exit: { code: failure.code, time: now().toISOString(), description: failure.description },
    };
    await writeRun(paths, run);
    return { run };
  };
  let runAs: RunAs | undefined;
  try {
    // looked up at every start: the user database may have changed since the deployment
    runAs = settings.user === undefined ? undefined : await resolveRunAs(settings.user);
  } catch (error) {
    return failed({ code: 126, description: `settings.user: ${(error as Error).message}` });
  }
  if (runAs) base = { ...base, runAs };
  const refused = await preflight(settings.command, cwd, env);
  if (refused) return failed(refused);
  await writeRun(paths, base);
  await ensureFifos(paths);
  const ends = openProgramEnds(paths);
  let logs: RunLogs;
  try {
    logs = await context.openLogs();
  } catch (error) {
    ends.forEach((fd) => closeSync(fd));
    throw error;
  }
  let launched: Awaited<ReturnType<typeof launch>>;
  try {
    launched = await launch({ paths, command: settings.command, args: settings.args, cwd, env, ends, runAs });
  } catch (error) {
    await logs.finish(0);
    throw error;
  }
  if (!('pid' in launched)) {
    await logs.finish(context.drainMs);
    return failed(launched);
  }
  const [program, wrapper] = await Promise.all([procInfo(launched.pid), procInfo(launched.pgid)]);
  const run: RunRecord = {
    ...base,
    pgid: launched.pgid,
    pgidStart: wrapper?.start,
    pid: launched.pid,
    pidStart: program?.start,
  };
  await writeRun(paths, run);
  return { run, logs, child: launched.child };
}
