import type { Settings } from '../config/settings.js';
import type { UpstreamEndpoint } from '../hub/endpoints/upstream.js';
import { edgeHubModuleKey } from '../identity/module-keys.js';
import { upstreamAddress, UpstreamAddressError } from '../hub/upstream/upstream-address.js';
import { UpstreamLink, type UpstreamStatus } from '../hub/upstream/upstream-link.js';
import { fetchDeviceScope } from '../hub/upstream/scope-client.js';
import { AMQP_TLS_PORT, HTTPS_PORT, portOr } from '../hub/upstream/upstream-transport.js';
import { ScopeIdentities } from '../hub/scope-identities.js';
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
  /** The upstream refused this device's own identity (config.yaml's dynamic_reprovisioning acts on it). */
  onDeviceRefused?(reason: string): void;
  /** The upstream refused an identity this device connects on behalf of (see UpstreamLinkOptions). */
  onIdentityRefused?(identityId: string): void;
}

/** Environment variables for tests: a shorter keepalive and idle time (seconds). */
const KEEPALIVE_ENV = 'IOTEDGE_UPSTREAM_KEEPALIVE_SECS';
const IDLE_ENV = 'IOTEDGE_UPSTREAM_IDLE_SECS';
/** Lifetime of the tokens the link presents (seconds; an hour unless set), to see renewals in tests. */
const TOKEN_ENV = 'IOTEDGE_UPSTREAM_TOKEN_SECS';
/** Between two periodic refreshes of the device scope from the parent (seconds; 300 unless set). */
const SCOPE_REFRESH_ENV = 'IOTEDGE_UPSTREAM_SCOPE_REFRESH_SECS';
/** The parent hub's HTTPS port, for several devices on one machine (443 unless set). */
const PARENT_HTTPS_PORT_ENV = 'IOTEDGE_PARENT_HTTPS_PORT';
/** The parent hub's AMQP port, for the same reason (5671 unless set). */
const PARENT_AMQP_PORT_ENV = 'IOTEDGE_PARENT_AMQP_PORT';
const DEFAULT_SCOPE_REFRESH_SECONDS = 300;
/** Least time between two refreshes asked for by clients no registration knows. */
const UNKNOWN_CLIENT_REFRESH_MS = 5000;

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
  const tokenSeconds = secondsFromEnv(TOKEN_ENV);
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
    ...(tokenSeconds === undefined ? {} : { tokenSeconds }),
    ...(address.kind === 'parent'
      ? {
          amqpPort: portOr(process.env[PARENT_AMQP_PORT_ENV], AMQP_TLS_PORT),
          httpsPort: portOr(process.env[PARENT_HTTPS_PORT_ENV], HTTPS_PORT),
        }
      : {}),
    ...(options.onDeviceRefused ? { onSelfRefused: options.onDeviceRefused } : {}),
    ...(options.onIdentityRefused ? { onIdentityRefused: options.onIdentityRefused } : {}),
  });
  link.start();
  return { link };
}

/**
 * A child's identities from upstream (config.yaml names a `parent_hostname`): the devices the parent
 * registered below it, asked for on the parent hub's HTTPS port (443, or IOTEDGE_PARENT_HTTPS_PORT)
 * and cached in `file`. Undefined for a device without a parent, or one that cannot sign its
 * `$edgeHub` tokens (no symmetric key), or whose `parent_hostname` cannot be read (the upstream
 * link logs that).
 */
export function openDeviceScope(
  options: UpstreamServiceOptions & { file: string },
): ScopeIdentities | undefined {
  const parentHostname = options.settings.parent_hostname;
  if (parentHostname === undefined || parentHostname.trim() === '') return undefined;
  let host: string;
  try {
    ({ host } = upstreamAddress({ parentHostname, iothubHostname: options.device.iothubHostname }));
  } catch (error) {
    if (error instanceof UpstreamAddressError) return undefined;
    throw error;
  }
  const { deviceKey, deviceId, iothubHostname } = options.device;
  if (deviceKey === undefined) {
    options.log('hub: device scope: this device has no symmetric key to ask its parent with');
    return undefined;
  }
  const address = { host, port: portOr(process.env[PARENT_HTTPS_PORT_ENV], HTTPS_PORT) };
  const edgeHubKey = edgeHubModuleKey(deviceKey);
  return new ScopeIdentities({
    file: options.file,
    deviceId,
    fetch: () =>
      fetchDeviceScope({
        address,
        ca: options.trustBundlePem(),
        iothubHostname,
        edgeDeviceId: deviceId,
        edgeHubKey,
      }),
    periodMs: (secondsFromEnv(SCOPE_REFRESH_ENV) ?? DEFAULT_SCOPE_REFRESH_SECONDS) * 1000,
    minIntervalMs: UNKNOWN_CLIENT_REFRESH_MS,
    log: options.log,
  });
}
