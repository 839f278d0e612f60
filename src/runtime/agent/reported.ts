import type { ModuleSpec, ModuleState, RuntimeStatus } from '../modules/types.js';
import type { DeploymentStatus } from './deployment-status.js';
import type { RestartStats } from './restart-policy.js';

/** IoT Edge reports unknown times as .NET's DateTime.MinValue. */
export const MIN_TIME = '0001-01-01T00:00:00Z';

const utc = (time: Date | undefined): string =>
  time ? time.toISOString().replace(/\.\d{3}Z$/, 'Z') : MIN_TIME;

export interface ReportedInput {
  agentVersion: string;
  daemonVersion: string;
  lastDesiredVersion?: number;
  lastDesiredStatus: DeploymentStatus;
  /** runtime.settings of the applied deployment, registry passwords already redacted. */
  runtimeSettings: Record<string, unknown>;
  agentImage: string;
  agentStartTime: Date;
  edgeHub?: ModuleSpec;
  modules: readonly ModuleSpec[];
  states: ReadonlyMap<string, ModuleState>;
  statuses: ReadonlyMap<string, RuntimeStatus>;
  /** Descriptions the agent knows better than the runtime (a failed pull of a module not created). */
  descriptions: ReadonlyMap<string, string>;
  /** The embedded hub's state, reported as edgeHub's. */
  edgeHubStatus?: { status: RuntimeStatus; description: string; startTime?: Date };
  stats: ReadonlyMap<string, RestartStats>;
}

function reportedSettings(spec: ModuleSpec): Record<string, unknown> {
  if (spec.type === 'docker' && 'image' in spec.settings) {
    return {
      image: spec.settings.image,
      imageHash: '',
      createOptions: JSON.stringify(spec.settings.createOptions),
    };
  }
  return { ...spec.settings };
}

function reportedModule(spec: ModuleSpec, input: ReportedInput): Record<string, unknown> {
  const state = input.states.get(spec.name);
  const stats = input.stats.get(spec.name);
  return {
    type: spec.type,
    version: spec.version,
    status: spec.status,
    restartPolicy: spec.restartPolicy,
    imagePullPolicy: spec.imagePullPolicy,
    startupOrder: spec.startupOrder,
    env: Object.fromEntries(Object.entries(spec.env).map(([key, value]) => [key, { value }])),
    runtimeStatus: input.statuses.get(spec.name) ?? 'unknown',
    exitCode: state?.exitCode ?? 0,
    statusDescription:
      input.descriptions.get(spec.name) ?? state?.statusDescription ?? state?.status ?? 'not created',
    lastStartTimeUtc: utc(state?.startTime),
    lastExitTimeUtc: utc(state?.exitTime),
    restartCount: stats?.restartCount ?? 0,
    lastRestartTimeUtc: utc(stats?.lastRestartTime),
    settings: reportedSettings(spec),
  };
}

/** The `$edgeAgent` reported properties (as IoT Edge has it). */
export function buildReported(input: ReportedInput): Record<string, unknown> {
  return {
    schemaVersion: '1.0',
    version: { version: input.agentVersion, build: '', commit: '' },
    ...(input.lastDesiredVersion !== undefined ? { lastDesiredVersion: input.lastDesiredVersion } : {}),
    lastDesiredStatus: input.lastDesiredStatus,
    runtime: {
      type: 'docker',
      settings: input.runtimeSettings,
      platform: { os: 'linux', architecture: process.arch, version: input.daemonVersion },
    },
    systemModules: {
      edgeAgent: {
        type: 'docker',
        runtimeStatus: 'running',
        exitCode: 0,
        statusDescription: 'running (embedded in iotedged)',
        lastStartTimeUtc: utc(input.agentStartTime),
        lastExitTimeUtc: MIN_TIME,
        imagePullPolicy: 'on-create',
        startupOrder: 0,
        settings: { image: input.agentImage, imageHash: '', createOptions: '{}' },
      },
      ...(input.edgeHub
        ? {
            edgeHub: {
              ...reportedModule(input.edgeHub, input),
              runtimeStatus: input.edgeHubStatus?.status ?? 'stopped',
              statusDescription: input.edgeHubStatus?.description ?? 'the Edge Hub is not running',
              ...(input.edgeHubStatus?.startTime
                ? { lastStartTimeUtc: utc(input.edgeHubStatus.startTime) }
                : {}),
            },
          }
        : {}),
    },
    modules: Object.fromEntries(input.modules.map((spec) => [spec.name, reportedModule(spec, input)])),
  };
}
