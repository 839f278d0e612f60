import type { ModuleSpec, ModuleState } from '../modules/types.js';
import {
  gaveUp,
  policyRestarts,
  restartDue,
  restartDueAt,
  type AgentTuning,
  type RestartStats,
} from './restart-policy.js';

/**
 * One step for the executor. `remove` stops the module first; `recreate` is stop + remove + create
 * (followed by its own `start` when the module should run); `restart` is stop + start and counts
 * as a restart (restartCount + 1, lastRestartTime = now); `start` never counts.
 */
export type Command =
  | { kind: 'create'; spec: ModuleSpec }
  | { kind: 'start'; name: string }
  | { kind: 'stop'; name: string }
  | { kind: 'remove'; name: string }
  | { kind: 'restart'; name: string }
  | { kind: 'recreate'; spec: ModuleSpec }
  | { kind: 'reset-stats'; name: string };

/** A module's commands, sorted into the phases IoT Edge's planner uses within its startupOrder group. */
interface Steps {
  remove: Command[];
  resetStats: Command[];
  create: Command[];
  update: Command[];
  policy: Command[];
  status: Command[];
  intensiveCare: Command[];
}

const PHASES: readonly (keyof Steps)[] = [
  'remove',
  'resetStats',
  'create',
  'update',
  'policy',
  'status',
  'intensiveCare',
];

const emptySteps = (): Steps => ({
  remove: [],
  resetStats: [],
  create: [],
  update: [],
  policy: [],
  status: [],
  intensiveCare: [],
});

const isLive = (state: ModuleState): boolean => state.status === 'running' || state.status === 'unhealthy';

/** What time alone will change for a module, and when. */
interface Decision {
  commands: Command[];
  /** When this module's next time-driven command (restart, start, stats reset) becomes due. */
  wakeAt?: Date;
}

/**
 * Policy-driven handling of a module whose configuration is current and that is not dead
 * (IoT Edge's restart policies, with our health semantics):
 * - desired stopped: stop it if it is live;
 * - a module the policy restarts (effective status `backoff`, or `unhealthy` under on-unhealthy
 *   and always) is restarted once the backoff delay has passed, unless maxRestartCount is used up;
 * - a `stopped` module that should run is started without counting when it was never started or
 *   the runtime stopped it (so a daemon restart brings modules back at once, in startupOrder);
 *   one that finished on its own with code 0 stays stopped under on-failure and on-unhealthy (as
 *   in Docker); otherwise it is started at once when it ran at least one cool-off unit, else one
 *   unit after its exit (always: restarted with backoff, and counted), so a program that exits
 *   with 0 at once cannot spin;
 * - a module running for intensiveCare with restarts behind it gets its count cleared.
 */
function decide(
  spec: ModuleSpec,
  state: ModuleState,
  stats: RestartStats | undefined,
  now: Date,
  tuning: AgentTuning,
): Decision {
  const name = spec.name;
  if (spec.status === 'stopped') return { commands: isLive(state) ? [{ kind: 'stop', name }] : [] };

  if (state.status === 'running') {
    if ((stats?.restartCount ?? 0) === 0 || state.startTime === undefined) return { commands: [] };
    const clearAt = new Date(state.startTime.getTime() + tuning.intensiveCareMs);
    return now >= clearAt ? { commands: [{ kind: 'reset-stats', name }] } : { commands: [], wakeAt: clearAt };
  }

  if (state.status === 'stopped') {
    // Never started, or stopped by the runtime (daemon shutdown, a restart request): start it now.
    if (state.startTime === undefined || state.stopRequested) return { commands: [{ kind: 'start', name }] };
    if (spec.restartPolicy === 'never') return { commands: [] };
    // Like Docker (and unlike IoT Edge), on-failure and on-unhealthy leave a program that finished
    // on its own with exit code 0 stopped; a module stopped by the runtime is started again.
    if (spec.restartPolicy !== 'always' && !state.stopRequested && state.exitCode === 0)
      return { commands: [] };
    // always counts stops as restarts: once they are used up the module stays `failed`.
    if (spec.restartPolicy === 'always' && gaveUp(stats, tuning)) return { commands: [] };
    const ran =
      state.exitTime === undefined
        ? Number.POSITIVE_INFINITY
        : state.exitTime.getTime() - state.startTime.getTime();
    if (ran >= tuning.coolOffUnitMs) return { commands: [{ kind: 'start', name }] };
    if (spec.restartPolicy !== 'always') {
      const startAt = new Date(state.exitTime!.getTime() + tuning.coolOffUnitMs);
      return now >= startAt ? { commands: [{ kind: 'start', name }] } : { commands: [], wakeAt: startAt };
    }
  }

  if (!policyRestarts(spec.restartPolicy, state.status) || gaveUp(stats, tuning)) return { commands: [] };
  if (restartDue(state, stats, now, tuning)) return { commands: [{ kind: 'restart', name }] };
  return { commands: [], wakeAt: restartDueAt(state, stats, tuning) };
}

interface Diff {
  removed: ModuleState[];
  /** Desired modules with their current state (undefined: to be created). */
  desired: { spec: ModuleSpec; state: ModuleState | undefined }[];
}

function diff(current: readonly ModuleState[], desired: readonly ModuleSpec[]): Diff {
  const wanted = new Set(desired.map((spec) => spec.name));
  const byName = new Map(current.map((state) => [state.name, state]));
  return {
    removed: current.filter((state) => !wanted.has(state.name)),
    desired: desired.map((spec) => ({ spec, state: byName.get(spec.name) })),
  };
}

/** The commands for one desired module, by phase. */
function moduleSteps(
  spec: ModuleSpec,
  state: ModuleState | undefined,
  stats: ReadonlyMap<string, RestartStats>,
  now: Date,
  tuning: AgentTuning,
  previous: ModuleSpec | undefined,
): Steps {
  const steps = emptySteps();
  const name = spec.name;
  const startIfRunning = (list: Command[]) => {
    if (spec.status === 'running') list.push({ kind: 'start', name });
  };
  const resetStats = () => {
    if (stats.has(name)) steps.resetStats.push({ kind: 'reset-stats', name });
  };

  if (state === undefined) {
    steps.create.push({ kind: 'create', spec });
    startIfRunning(steps.create);
  } else if (state.configHash !== spec.configHash || state.type !== spec.type) {
    resetStats();
    steps.update.push({ kind: 'recreate', spec });
    startIfRunning(steps.update);
  } else if (state.status === 'dead') {
    steps.remove.push({ kind: 'remove', name });
    resetStats();
    steps.create.push({ kind: 'create', spec });
    startIfRunning(steps.create);
  } else if (
    previous !== undefined &&
    previous.configHash === spec.configHash &&
    previous.status !== spec.status
  ) {
    // A desired-status change starts or stops the module whatever its policy, with fresh stats.
    resetStats();
    if (spec.status === 'running' && !isLive(state)) steps.status.push({ kind: 'start', name });
    if (spec.status === 'stopped' && isLive(state)) steps.status.push({ kind: 'stop', name });
  } else if (spec.status === 'stopped') {
    // Without the previous deployment, a stopped module's restart history is simply dropped.
    resetStats();
    steps.status.push(...decide(spec, state, stats.get(name), now, tuning).commands);
  } else {
    const commands = decide(spec, state, stats.get(name), now, tuning).commands;
    const phase = commands.some((command) => command.kind === 'reset-stats') ? 'intensiveCare' : 'policy';
    steps[phase].push(...commands);
  }
  return steps;
}

/**
 * The pure planner (as IoT Edge has it): what to do to bring `current` to `desired`.
 * Returns command groups in ascending startupOrder; the executor finishes a group before it starts
 * the next, so startupOrder holds on every start, after a daemon restart included. Modules no
 * longer desired are removed first, in the group of order 0, as IoT Edge does. Inside a group the
 * commands follow IoT Edge's phases: removals, stats resets, creations, recreations, policy restarts
 * and starts, desired-status starts and stops, intensive-care resets. Restarts that are not due
 * yet are left for a later call (see nextWakeUp).
 *
 * `previous`, the modules of the deployment last planned, lets a desired-status change start a
 * module whatever its restart policy; without it such a change is seen only through the policy.
 */
/** Code-unit order, as module listings use; localeCompare would load ICU's collation data (~3 MiB). */
const nameOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function plan(
  current: readonly ModuleState[],
  desired: readonly ModuleSpec[],
  stats: ReadonlyMap<string, RestartStats>,
  now: Date,
  tuning: AgentTuning,
  previous?: readonly ModuleSpec[],
): Command[][] {
  const { removed, desired: pairs } = diff(current, desired);
  const previousByName = new Map((previous ?? []).map((spec) => [spec.name, spec]));
  const groups = new Map<number, Steps[]>();
  const add = (order: number, steps: Steps) => groups.set(order, [...(groups.get(order) ?? []), steps]);

  for (const state of [...removed].sort((a, b) => nameOrder(a.name, b.name))) {
    add(0, { ...emptySteps(), remove: [{ kind: 'remove', name: state.name }] });
  }
  for (const { spec, state } of [...pairs].sort((a, b) => nameOrder(a.spec.name, b.spec.name))) {
    add(spec.startupOrder, moduleSteps(spec, state, stats, now, tuning, previousByName.get(spec.name)));
  }

  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, members]) => PHASES.flatMap((phase) => members.flatMap((steps) => steps[phase])))
    .filter((group) => group.length > 0);
}

/**
 * The earliest moment after `now` at which time alone makes plan() do something new: a backoff
 * restart, a delayed start or an intensive-care reset becoming due. undefined when nothing waits
 * (module exits and deployments wake the agent by themselves).
 */
export function nextWakeUp(
  current: readonly ModuleState[],
  desired: readonly ModuleSpec[],
  stats: ReadonlyMap<string, RestartStats>,
  now: Date,
  tuning: AgentTuning,
): Date | undefined {
  const byName = new Map(current.map((state) => [state.name, state]));
  let earliest: Date | undefined;
  for (const spec of desired) {
    const state = byName.get(spec.name);
    if (state === undefined || state.configHash !== spec.configHash || state.type !== spec.type) continue;
    if (state.status === 'dead') continue;
    const { wakeAt } = decide(spec, state, stats.get(spec.name), now, tuning);
    if (wakeAt !== undefined && wakeAt > now && (earliest === undefined || wakeAt < earliest))
      earliest = wakeAt;
  }
  return earliest;
}

const subject = (command: Command): string => ('spec' in command ? command.spec.name : command.name);

/** One line for logs, e.g. `remove old, create a, start a; then start b`. */
export function describePlan(groups: readonly (readonly Command[])[]): string {
  const parts = groups
    .filter((group) => group.length > 0)
    .map((group) => group.map((command) => `${command.kind} ${subject(command)}`).join(', '));
  return parts.length === 0 ? 'nothing to do' : parts.join('; then ');
}
