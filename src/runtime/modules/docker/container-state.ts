import type { ModuleState, ObservedStatus } from '../types.js';
import { CONFIG_HASH_LABEL, CONTRACT_LABEL, CONTRACT_VERSION, ORIGINAL_IMAGE_LABEL } from './labels.js';

/** The part of a container inspect body the runtime reads. */
export interface InspectedContainer {
  Name?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: {
    Status?: string;
    ExitCode?: number;
    Error?: string;
    Pid?: number;
    StartedAt?: string;
    FinishedAt?: string;
    Health?: { Status?: string } | null;
  };
}

/** Docker state → observed status (as IoT Edge 1.1 has it), with HEALTHCHECK honoured. */
export function observedStatus(state: InspectedContainer['State']): ObservedStatus {
  switch (state?.Status) {
    case 'created':
    case 'paused':
    case 'restarting':
      return 'stopped';
    case 'exited':
    case 'removing':
      return (state.ExitCode ?? 0) === 0 ? 'stopped' : 'failed';
    case 'dead':
      return 'dead';
    case 'running':
      return state.Health?.Status === 'unhealthy' ? 'unhealthy' : 'running';
    default:
      return 'unknown';
  }
}

/** A Docker timestamp, or undefined for Docker's zero time (0001-01-01) and anything unparsable. */
export function dockerTime(value: string | undefined): Date | undefined {
  if (!value || value.startsWith('0001-01-01')) return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

const describe = (
  state: NonNullable<InspectedContainer['State']>,
  status: ObservedStatus,
): string | undefined => {
  if (state.Error) return state.Error;
  if (status === 'unhealthy') return 'the container health check reports unhealthy';
  return state.Status;
};

/** The module state of one of our containers. */
export function moduleStateOf(
  name: string,
  container: InspectedContainer,
  stopRequested: boolean,
): ModuleState {
  const state = container.State ?? {};
  const labels = container.Config?.Labels ?? {};
  const status = observedStatus(state);
  const result: ModuleState = {
    name,
    type: 'docker',
    status,
    configHash: labels[CONTRACT_LABEL] === CONTRACT_VERSION ? (labels[CONFIG_HASH_LABEL] ?? '') : '',
    image: labels[ORIGINAL_IMAGE_LABEL] ?? container.Config?.Image,
    statusDescription: describe(state, status),
    stopRequested,
  };
  const startTime = dockerTime(state.StartedAt);
  if (startTime) result.startTime = startTime;
  const exited = state.Status === 'exited' || state.Status === 'dead' || state.Status === 'removing';
  const exitTime = dockerTime(state.FinishedAt);
  if (exitTime && exited) result.exitTime = exitTime;
  if (exited && typeof state.ExitCode === 'number') result.exitCode = state.ExitCode;
  if (state.Status === 'running' && state.Pid) result.pid = state.Pid;
  return result;
}
