/**
 * The parsed form of config.yaml (IoT Edge 1.1 schema).
 * Field names follow the YAML keys so that error messages can name key paths as users wrote them.
 */

export interface X509ManualAuthentication {
  method: 'x509';
  iothub_hostname: string;
  device_id: string;
  identity_cert: string;
  identity_pk: string;
}

export interface ConnectionStringAuthentication {
  method: 'device_connection_string';
  device_connection_string: string;
}

export interface ManualProvisioning {
  source: 'manual';
  dynamic_reprovisioning: boolean;
  /** Exactly one of `device_connection_string` and `authentication` is set after loading. */
  device_connection_string?: string;
  authentication?: X509ManualAuthentication | ConnectionStringAuthentication;
}

export type DpsAttestation =
  | { method: 'tpm'; registration_id: string }
  | SymmetricKeyAttestation
  | { method: 'x509'; registration_id?: string; identity_cert: string; identity_pk: string };

/**
 * Symmetric-key attestation: the device's own key (individual enrollment), or the enrollment
 * group's key from which the device key is derived (group enrollment); exactly one of the two.
 */
export type SymmetricKeyAttestation = { method: 'symmetric_key'; registration_id: string } & (
  { symmetric_key: string; group_key?: undefined } | { group_key: string; symmetric_key?: undefined }
);

/** How the daemon talks to DPS: HTTPS (IoT Edge's own choice) or MQTT over TLS. */
export type DpsTransport = 'http' | 'mqtt';

export interface DpsProvisioning {
  source: 'dps';
  dynamic_reprovisioning: boolean;
  global_endpoint: string;
  scope_id: string;
  attestation: DpsAttestation;
  always_reprovision_on_startup: boolean;
  /** HTTPS when not set. */
  transport?: DpsTransport;
}

export interface ExternalProvisioning {
  source: 'external';
  dynamic_reprovisioning: boolean;
  endpoint: string;
}

export type ProvisioningSettings = ManualProvisioning | DpsProvisioning | ExternalProvisioning;

export interface RegistryAuth {
  username?: string;
  password?: string;
  serveraddress?: string;
}

export interface AgentSettings {
  name: string;
  type: string;
  env: Record<string, string>;
  config: {
    image: string;
    createOptions?: Record<string, unknown>;
    auth?: RegistryAuth;
  };
}

export interface CertificateSettings {
  device_ca_cert?: string;
  device_ca_pk?: string;
  trusted_ca_certs?: string;
  auto_generated_ca_lifetime_days: number;
}

export interface MobyNetwork {
  name: string;
  ipv6?: boolean;
  ipam?: { config?: { gateway?: string; subnet?: string; ip_range?: string }[] };
}

export interface Settings {
  provisioning: ProvisioningSettings;
  allow_elevated_docker_permissions: boolean;
  agent: AgentSettings;
  hostname: string;
  /** Not part of 1.1 (1.2+); accepted so nested configurations can be checked. */
  parent_hostname?: string;
  connect: { management_uri: string; workload_uri: string };
  listen: { management_uri: string; workload_uri: string; min_tls_version?: 'tls1.0' | 'tls1.1' | 'tls1.2' };
  homedir: string;
  moby_runtime: { uri: string; network: string | MobyNetwork };
  certificates?: CertificateSettings;
  watchdog?: { max_retries?: number };
}

export const DEFAULT_CONFIG_FILE = '/etc/iotedge/config.yaml';

/** Name of the network modules join, whichever form `moby_runtime.network` took. */
export function networkName(settings: Settings): string {
  const network = settings.moby_runtime.network;
  return typeof network === 'string' ? network : network.name;
}
