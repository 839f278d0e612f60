/**
 * Every check `iotedge check` knows, in execution order: the data behind `check-list`,
 * `--dont-run` validation and the renderers. Kept free of imports so `check-list` starts fast.
 */

export const CONFIGURATION = 'Configuration checks';
export const CONNECTIVITY = 'Connectivity checks';

export interface CheckInfo {
  id: string;
  description: string;
  category: typeof CONFIGURATION | typeof CONNECTIVITY;
  /** Other ids the same check has had in IoT Edge releases; accepted by --dont-run. */
  aliases?: string[];
}

const configuration = (id: string, description: string, aliases?: string[]): CheckInfo => ({
  id,
  description,
  category: CONFIGURATION,
  aliases,
});
const connectivity = (id: string, description: string, aliases?: string[]): CheckInfo => ({
  id,
  description,
  category: CONNECTIVITY,
  aliases,
});

const hubPort = {
  amqp: 'IoT Hub AMQP port',
  https: 'IoT Hub HTTPS / WebSockets port',
  mqtt: 'IoT Hub MQTT port',
} as const;

export const CHECKS: readonly CheckInfo[] = [
  configuration('config-yaml-well-formed', 'config.yaml is well-formed'),
  configuration('connection-string', 'config.yaml has well-formed connection string'),
  configuration('container-engine-uri', 'container engine is installed and functional'),
  configuration('windows-host-version', 'Windows host version is supported'),
  configuration('hostname', 'config.yaml has correct hostname'),
  configuration('connect-management-uri', 'config.yaml has correct URIs for daemon mgmt endpoint'),
  configuration('iotedged-version', 'latest security daemon'),
  configuration('host-local-time', 'host time is close to real time'),
  configuration('container-local-time', 'container time is close to host time'),
  configuration('container-engine-dns', 'DNS server'),
  configuration('container-engine-ipv6', 'IPv6 network configuration'),
  configuration('identity-certificate-expiry', 'production readiness: identity certificates expiry'),
  configuration('certificates-quickstart', 'production readiness: certificates'),
  configuration('certificates-expiry', 'production readiness: certificates expiry'),
  configuration('container-engine-is-moby', 'production readiness: container engine'),
  configuration('container-engine-logrotate', 'production readiness: logs policy'),
  configuration(
    'edge-agent-storage-mounted-from-host',
    "production readiness: Edge Agent's storage directory is persisted on the host filesystem",
  ),
  configuration(
    'edge-hub-storage-mounted-from-host',
    "production readiness: Edge Hub's storage directory is persisted on the host filesystem",
  ),
  configuration('edgehub-host-ports', 'Edge Hub can bind to ports on host'),
  connectivity(
    'host-connect-dps-endpoint',
    'host can connect to and perform TLS handshake with DPS endpoint',
  ),
  ...(['amqp', 'https', 'mqtt'] as const).map((protocol) =>
    connectivity(
      `host-connect-iothub-${protocol}`,
      `host can connect to and perform TLS handshake with ${hubPort[protocol]}`,
    ),
  ),
  ...(['amqp', 'https', 'mqtt'] as const).map((protocol) =>
    connectivity(
      `container-default-connect-iothub-${protocol}`,
      `container on the default network can connect to ${hubPort[protocol]}`,
    ),
  ),
  ...(['amqp', 'https', 'mqtt'] as const).map((protocol) =>
    connectivity(
      `container-module-connect-iothub-${protocol}`,
      `container on the IoT Edge module network can connect to ${hubPort[protocol]}`,
      [`container-connect-iothub-${protocol}`],
    ),
  ),
];

/** Resolves an id or alias to the catalog id, or undefined when unknown. */
export function canonicalCheckId(id: string): string | undefined {
  return CHECKS.find((check) => check.id === id || check.aliases?.includes(id))?.id;
}

/** Maps --dont-run values (ids or aliases, space or comma separated) to canonical ids. */
export function resolveDontRun(values: readonly string[]): { ids: Set<string>; unknown: string[] } {
  const ids = new Set<string>();
  const unknown: string[] = [];
  for (const value of values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean)) {
    const id = canonicalCheckId(value);
    if (id) ids.add(id);
    else unknown.push(value);
  }
  return { ids, unknown };
}

/** Every id --dont-run accepts, for usage errors. */
export function acceptedCheckIds(): string[] {
  return CHECKS.flatMap((check) => [check.id, ...(check.aliases ?? [])]);
}
