import type { ModuleState } from '../types.js';
import type { RunRecord, StoredSpec } from './module-store.js';

/** What only the live supervisor knows about a running module. */
export interface LiveView {
  pid?: number;
  unhealthy: boolean;
  healthDescription?: string;
}

const date = (iso: string | undefined) => (iso ? new Date(iso) : undefined);

/**
 * A module's observed state from what is stored about it and, while it runs, what its supervisor
 * sees. An exit after stop() is `stopped` whatever its code (143 after SIGTERM), as is a clean
 * exit; any other exit, or an exit whose code is unknown, is `failed`.
 */
export function observedState(
  name: string,
  stored: StoredSpec,
  run: RunRecord | undefined,
  live: LiveView | undefined,
): ModuleState {
  const state: ModuleState = { name, type: 'process', status: 'stopped', configHash: stored.spec.configHash };
  if (!run) return state;
  state.startTime = date(run.startTime);
  if (!run.exit) {
    state.status = live?.unhealthy ? 'unhealthy' : 'running';
    state.pid = live?.pid ?? run.pid;
    if (live?.unhealthy && live.healthDescription) state.statusDescription = live.healthDescription;
    return state;
  }
  const { code, time, description } = run.exit;
  state.exitTime = date(time);
  if (code !== undefined) state.exitCode = code;
  if (run.stopRequested) state.stopRequested = true;
  state.status = run.stopRequested || code === 0 ? 'stopped' : 'failed';
  const text =
    description ?? (code !== undefined && state.status === 'failed' ? `exited with code ${code}` : undefined);
  if (text) state.statusDescription = text;
  return state;
}

/** A module directory whose spec cannot be read: reported, not hidden. */
export function unreadableState(name: string, problem: string): ModuleState {
  return { name, type: 'process', status: 'unknown', configHash: '', statusDescription: problem };
}
