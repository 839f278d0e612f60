import type { Settings } from '../config/settings.js';
import type { LogLine, LogOptions } from '../modules/types.js';
import type { DaemonLogReader } from './daemon-log.js';
import { ApiError, type ManagementBackend } from './management-types.js';
import { reprovisionThrough, type Reprovisioning } from './reprovision.js';
import { systemInfoView, systemResourcesView } from './system-views.js';
import type { UpstreamReport } from './upstream-service.js';

/**
 * The management API while the device waits for its first assignment from DPS: system information
 * (with the provisioning state), resources, the daemon's log, an empty module list, the upstream
 * that is not there yet, and reprovisioning (a registration now). Everything that needs the
 * device's identity answers 503 with where provisioning stands.
 */
export function provisioningBackend(options: {
  settings: Settings;
  version: string;
  provisioning: Reprovisioning;
  daemonLog: DaemonLogReader;
}): ManagementBackend {
  const { settings, version, provisioning } = options;
  const waiting = (): string => {
    const state = provisioning.state;
    const why = state.lastError === undefined ? '' : `: ${state.lastError}`;
    return `the device is not provisioned yet (DPS registration in progress${why})`;
  };
  const served: Partial<ManagementBackend> = {
    systemInfo: () => systemInfoView(settings, version, provisioning.state),
    systemResources: () => systemResourcesView(),
    listModules: async () => [],
    listIdentities: async () => [],
    listDevices: async () => [],
    daemonLogs: async (logOptions: LogOptions, signal: AbortSignal): Promise<AsyncIterable<LogLine>> =>
      options.daemonLog.read(logOptions, undefined, signal),
    upstreamStatus: async (): Promise<UpstreamReport> => ({
      target: 'none',
      protocol: 'MQTT',
      connected: false,
      lastError: waiting(),
    }),
    deploymentSource: () => 'local',
    // as while the Edge Hub is not running
    hubQueues: () => Promise.reject(new ApiError(404, waiting())),
    hubReported: () => Promise.reject(new ApiError(404, waiting())),
    reprovision: () => reprovisionThrough(provisioning, settings),
  };
  return new Proxy(served, {
    get(target, property: string) {
      if (property in target) return target[property as keyof ManagementBackend];
      return () => Promise.reject(new ApiError(503, waiting()));
    },
  }) as ManagementBackend;
}
