import type { Settings } from '../config/settings.js';
import type { UpstreamEndpoint } from '../hub/endpoints/upstream.js';
import { edgeHubModuleKey } from '../identity/module-keys.js';
import { upstreamAddress, UpstreamAddressError } from '../hub/upstream/upstream-address.js';
import { UpstreamLink, type UpstreamStatus } from '../hub/upstream/upstream-link.js';
import { packageVersion } from '../../version.js';

/** `iotedge system status`: the link's state, or why there is none. */
export type UpstreamReport =
  | UpstreamStatus
  | { target: 'none'; kind?: undefined; protocol: 'MQTT'; connected: false; lastError: string };

export interface UpstreamServiceOptions {
  settings: Pick<Settings, 'parent_hostname'>;
  device: { deviceId: string; iothubHostname: string; deviceKey?: string };
  /** The device's trust bundle (PEM): a parent's server certificate must chain to it. */
  trustBundlePem(): string;
  log(line: string): void;
}

/** Environment variables for tests: a shorter keepalive and idle time (seconds). */
const KEEPALIVE_ENV = 'IOTEDGE_UPSTREAM_KEEPALIVE_SECS';
const IDLE_ENV = 'IOTEDGE_UPSTREAM_IDLE_SECS';

function secondsFromEnv(name: string): number | undefined {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * Opens the hub's upstream link for one EdgeHub: to the parent edge device named by config.yaml
 * `parent_hostname` (its server certificate checked against the device's trust bundle), else to the
 * IoT Hub of the connection string (checked against the OS's CAs; tried once a message waits for
 * it). Returns the link, or the reason
 * there is none (a `parent_hostname` that cannot be read).
 */
export function openUpstream(
  options: UpstreamServiceOptions,
  endpoint: UpstreamEndpoint,
): { link: UpstreamLink } | { problem: string } {
  let address;
  try {
    address = upstreamAddress({
      parentHostname: options.settings.parent_hostname,
      iothubHostname: options.device.iothubHostname,
    });
  } catch (error) {
    if (!(error instanceof UpstreamAddressError)) throw error;
    options.log(`hub: upstream: ${error.message}`);
    return { problem: error.message };
  }
  const { deviceKey } = options.device;
  const keepaliveSeconds = secondsFromEnv(KEEPALIVE_ENV);
  const idleSeconds = secondsFromEnv(IDLE_ENV);
  const link = new UpstreamLink({
    address,
    ...(address.kind === 'parent' ? { ca: options.trustBundlePem() } : { onDemand: true }),
    iothubHostname: options.device.iothubHostname,
    edgeDeviceId: options.device.deviceId,
    ...(deviceKey === undefined ? {} : { edgeHubKey: edgeHubModuleKey(deviceKey) }),
    productInfo: `iotedge-ts/${packageVersion()}`,
    endpoint,
    log: options.log,
    ...(keepaliveSeconds === undefined ? {} : { keepaliveSeconds }),
    ...(idleSeconds === undefined ? {} : { idleMs: idleSeconds * 1000 }),
  });
  link.start();
  return { link };
}
