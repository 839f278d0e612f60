/**
 * `iotedge deploy --wait`: what the agent's reported properties say about each module of the
 * deployment, judged without I/O. A module counts as running once it has stayed up (same start
 * time, by the daemon's clock or by what this watch saw) for the settle period, so that one which
 * exits at once is not taken for a success.
 */

/** Where one module stands: up, failed, stopped as it should be, or not there yet. */
export type ModuleState = 'running' | 'failed' | 'stopped' | 'pending';

export interface ModuleView {
  name: string;
  state: ModuleState;
  /** The agent's status word and what it says about it (`failed, exit code 7: ...`). */
  reason: string;
}

export interface WaitVerdict {
  /** `running`: every module runs (or is stopped as desired); `failed`: one at least failed. */
  outcome: 'running' | 'failed' | 'pending';
  modules: ModuleView[];
}

type Reported = Record<string, unknown>;

const record = (value: unknown): Reported =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Reported) : {};

/** The modules a deployment runs: edgeHub (edgeAgent is the daemon itself), then the others. */
function deployedModules(reported: Reported): [string, Reported][] {
  const hub = record(record(reported.systemModules).edgeHub);
  const modules = Object.entries(record(reported.modules)).map(
    ([name, value]) => [name, record(value)] as [string, Reported],
  );
  return [...(Object.keys(hub).length > 0 ? [['edgeHub', hub] as [string, Reported]] : []), ...modules];
}

/** One module's state from its reported entry, before the settle period is applied. */
export function moduleView(name: string, module: Reported): ModuleView {
  const status = String(module.runtimeStatus ?? 'unknown');
  const exitCode = typeof module.exitCode === 'number' ? module.exitCode : 0;
  const description = typeof module.statusDescription === 'string' ? module.statusDescription.trim() : '';
  const said =
    description !== '' && description !== status && !/exit(?:ed)? (?:with )?code/i.test(description)
      ? `: ${description}`
      : '';
  const exited = `exit code ${exitCode}${said}`;
  if (module.status === 'stopped') {
    const settled = status !== 'running' && status !== 'unhealthy';
    return { name, state: settled ? 'stopped' : 'pending', reason: status };
  }
  switch (status) {
    case 'running':
      return { name, state: 'running', reason: 'running' };
    case 'failed':
    case 'dead':
      return { name, state: 'failed', reason: `${status}, ${exited}` };
    case 'backoff':
      return { name, state: 'failed', reason: `exited and waits to be restarted (backoff), ${exited}` };
    case 'stopped':
      return exitCode === 0
        ? { name, state: 'stopped', reason: 'exited with code 0, not restarted' }
        : { name, state: 'failed', reason: `stopped, ${exited}` };
    default:
      return { name, state: 'pending', reason: `${status}${said}` };
  }
}

/** Follows the reported properties of one deployment while `deploy --wait` polls them. */
export class DeploymentWatch {
  private readonly upSince = new Map<string, { start: string; since: number }>();

  constructor(private readonly settleMs: number) {}

  observe(reported: Reported, nowMs: number): WaitVerdict {
    const modules = deployedModules(reported).map(([name, module]) => {
      const view = moduleView(name, module);
      if (view.state !== 'running') {
        this.upSince.delete(name);
        return view;
      }
      const start = String(module.lastStartTimeUtc ?? '');
      const seen = this.upSince.get(name);
      if (!seen || seen.start !== start) this.upSince.set(name, { start, since: nowMs });
      // the daemon's start time counts too (to the second: one second is taken off it)
      const started = Date.parse(start) + 1000;
      const upFor = Math.max(nowMs - (this.upSince.get(name)?.since ?? nowMs), nowMs - (started || nowMs));
      return upFor >= this.settleMs ? view : { name, state: 'pending' as const, reason: 'just started' };
    });
    const outcome = modules.some((module) => module.state === 'failed')
      ? 'failed'
      : modules.every((module) => module.state === 'running' || module.state === 'stopped')
        ? 'running'
        : 'pending';
    return { outcome, modules };
  }
}

const named = (modules: readonly ModuleView[]): string =>
  modules.map((module) => `${module.name} (${module.reason})`).join(', ');

/** The progress line while waiting: `Waiting for modules: 2 of 3 running; filter (starting)`. */
export function progressLine(verdict: WaitVerdict): string {
  const up = verdict.modules.filter((module) => module.state === 'running' || module.state === 'stopped');
  const waiting = verdict.modules.filter((module) => module.state === 'pending');
  const rest = waiting.length > 0 ? `; ${named(waiting)}` : '';
  return `Waiting for modules: ${up.length} of ${verdict.modules.length} running${rest}`;
}

/** The line `deploy --wait` ends with when every module runs. */
export function runningLine(verdict: WaitVerdict): string {
  const stopped = verdict.modules.filter((module) => module.state === 'stopped');
  const running = verdict.modules.length - stopped.length;
  const also = stopped.length > 0 ? `; stopped: ${named(stopped)}` : '';
  return `Modules running: ${running} of ${verdict.modules.length}${also}`;
}

/** Exit codes of `deploy --wait` beyond 0 (running) and 1 (refused, unreachable, bad input). */
export const WAIT_EXIT = { failed: 2, timeout: 3 } as const;

/** Why `deploy --wait` failed: the modules that failed and what the agent says about each. */
export function failedMessage(verdict: WaitVerdict): string {
  const failed = verdict.modules.filter((module) => module.state === 'failed');
  return `Deployment did not run: ${named(failed)}`;
}

/** What `deploy --wait` says when the time is up. */
export function timeoutMessage(verdict: WaitVerdict | undefined, seconds: number): string {
  const waiting = verdict?.modules.filter(
    (module) => module.state !== 'running' && module.state !== 'stopped',
  );
  const which = waiting && waiting.length > 0 ? `: still waiting for ${named(waiting)}` : '';
  return `Timed out after ${seconds} s waiting for the deployment's modules to run${which}`;
}
