import type { ModuleSpec } from '../modules/types.js';
import { workloadUri } from '../workload/socket-layout.js';

export interface ModuleEnvContext {
  deviceId: string;
  iothubHostname: string;
  /** This device's hostname: modules reach the Edge Hub through it. */
  gatewayHostname: string;
  parentHostname?: string;
  homedir: string;
  generationId: string;
  workloadApiVersion: string;
  runtimeLogLevel: string;
}

/**
 * The environment a module gets: the manifest's env, then the IOTEDGE_* variables the runtime
 * injects (these win), process and container modules alike; only the workload URI differs, since a
 * container sees its socket where the runtime binds it.
 */
export function moduleEnvironment(spec: ModuleSpec, context: ModuleEnvContext): Record<string, string> {
  const env: Record<string, string> = { ...spec.env };
  Object.assign(env, {
    IOTEDGE_WORKLOADURI: workloadUri(context.homedir, spec.name, spec.type),
    IOTEDGE_AUTHSCHEME: 'sasToken',
    IOTEDGE_MODULEGENERATIONID: context.generationId,
    IOTEDGE_IOTHUBHOSTNAME: context.iothubHostname,
    IOTEDGE_DEVICEID: context.deviceId,
    IOTEDGE_MODULEID: spec.name,
    IOTEDGE_APIVERSION: context.workloadApiVersion,
    IOTEDGE_GATEWAYHOSTNAME: context.gatewayHostname,
  });
  if (context.parentHostname) env.IOTEDGE_PARENTHOSTNAME = context.parentHostname;
  env.RuntimeLogLevel ??= context.runtimeLogLevel;
  return env;
}
