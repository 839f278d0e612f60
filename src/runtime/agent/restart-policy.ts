import type {
  ModuleSpec,
  ModuleState,
  ObservedStatus,
  RestartPolicy,
  RuntimeStatus,
} from '../modules/types.js';

/** Restart timing (as IoT Edge has it); every duration in milliseconds. */
export interface AgentTuning {
  /** Backoff unit: the n-th restart waits unit · 2^n (IoT Edge's CoolOffTimeUnitInSeconds). */
  coolOffUnitMs: number;
  /** Cap on one backoff delay. */
  maxBackoffMs: number;
  /** Running this long clears a module's restart count (IntensiveCareTimeInMinutes). */
  intensiveCareMs: number;
  /** Restarts after which a module is left `failed`; undefined = never give up (IoT Edge: 20). */
  maxRestartCount?: number;
}

export const DEFAULT_TUNING: Readonly<AgentTuning> = Object.freeze({
  coolOffUnitMs: 10_000,
  maxBackoffMs: 300_000,
  intensiveCareMs: 600_000,
});

/** Kept by the agent per module; cleared by the plan's `reset-stats`. */
export interface RestartStats {
  restartCount: number;
  lastRestartTime?: Date;
}

/** min(unit · 2^restartCount, max): 10, 20, 40, 80, 160, 300, 300… s with the defaults. */
export function backoffDelayMs(restartCount: number, tuning: AgentTuning): number {
  // 2^64 already exceeds any sensible cap; keeps unit · 2^n finite.
  return Math.min(tuning.coolOffUnitMs * 2 ** Math.min(Math.max(restartCount, 0), 64), tuning.maxBackoffMs);
}

/**
 * Whether `policy` restarts a module observed in `status` although it should be running.
 * Unlike IoT Edge, health counts: on-unhealthy restarts unhealthy modules.
 */
export function policyRestarts(policy: RestartPolicy, status: ObservedStatus): boolean {
  switch (policy) {
    case 'never':
      return false;
    case 'on-failure':
      return status === 'failed';
    case 'on-unhealthy':
      return status === 'failed' || status === 'unhealthy';
    case 'always':
      return status !== 'running' && status !== 'dead';
  }
}

/** The configured maximum of restarts has been used up: the agent leaves the module alone. */
export function gaveUp(stats: RestartStats | undefined, tuning: AgentTuning): boolean {
  return tuning.maxRestartCount !== undefined && (stats?.restartCount ?? 0) >= tuning.maxRestartCount;
}

/**
 * The status the agent reports (IoT Edge's agent statuses, with our health semantics): `dead` stays dead; a
 * module that should run but does not, and that its policy restarts, is in `backoff` (or `failed`
 * once maxRestartCount is used up); a live module whose health probe fails is `unhealthy`;
 * anything else is the observed status. A module the runtime does not hold is `unknown`.
 */
export function effectiveStatus(
  spec: Pick<ModuleSpec, 'status' | 'restartPolicy'>,
  state: Pick<ModuleState, 'status'> | undefined,
  stats: RestartStats | undefined,
  tuning: AgentTuning,
): RuntimeStatus {
  if (state === undefined) return 'unknown';
  const observed = state.status;
  if (observed === 'dead' || observed === 'running' || observed === 'unhealthy') return observed;
  if (spec.status !== 'running' || !policyRestarts(spec.restartPolicy, observed)) return observed;
  return gaveUp(stats, tuning) ? 'failed' : 'backoff';
}

const latest = (...times: (Date | undefined)[]): Date | undefined =>
  times.reduce<Date | undefined>(
    (best, time) => (time !== undefined && (best === undefined || time > best) ? time : best),
    undefined,
  );

/**
 * When the next restart of a module may happen: backoffDelay(restartCount) after the later of its
 * exit and its last restart (for a live unhealthy module: after its start, so that it gets at
 * least that long to recover). undefined when nothing is known to wait from: due at once.
 */
export function restartDueAt(
  state: Pick<ModuleState, 'status' | 'startTime' | 'exitTime'>,
  stats: RestartStats | undefined,
  tuning: AgentTuning,
): Date | undefined {
  const from =
    state.status === 'unhealthy'
      ? latest(state.startTime, stats?.lastRestartTime)
      : (latest(state.exitTime, stats?.lastRestartTime) ?? state.startTime);
  if (from === undefined) return undefined;
  return new Date(from.getTime() + backoffDelayMs(stats?.restartCount ?? 0, tuning));
}

/** The backoff delay since the module's exit (or, if unhealthy, its start) has passed. */
export function restartDue(
  state: Pick<ModuleState, 'status' | 'startTime' | 'exitTime'>,
  stats: RestartStats | undefined,
  now: Date,
  tuning: AgentTuning,
): boolean {
  const at = restartDueAt(state, stats, tuning);
  return at === undefined || now >= at;
}
