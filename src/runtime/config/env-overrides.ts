import yaml from 'js-yaml';
import { isMapping, type Mapping } from './merge.js';

/**
 * Environment overrides of config.yaml.
 *
 * Rule: a variable `IOTEDGE_<KEY>` (prefix in upper case) names a settings key. `<KEY>` is split on
 * `__` into path segments, each lower-cased, so `IOTEDGE_HOSTNAME` sets `hostname` and
 * `IOTEDGE_MOBY_RUNTIME__URI` sets `moby_runtime.uri`. The segment after `AGENT__ENV__` is kept as
 * written, because module environment variable names are case-sensitive.
 * Only known keys are honoured: the top-level scalars and the nested keys listed below. Every other
 * `IOTEDGE_*` variable is ignored — the CLI's own `IOTEDGE_HOST` and the variables the daemon injects
 * into modules (`IOTEDGE_DEVICEID`, `IOTEDGE_WORKLOADURI`, …) must never reach the configuration.
 * Values are read as YAML scalars (`true` becomes a boolean, `8` a number); an empty value is the empty
 * string, and `null`/`~` removes the key. A value that is not a scalar in YAML is taken as plain text.
 */

const PREFIX = 'IOTEDGE_';

const TOP_LEVEL_SCALARS = ['hostname', 'parent_hostname', 'homedir', 'allow_elevated_docker_permissions'];

const NESTED_KEYS = [
  'provisioning.source',
  'provisioning.device_connection_string',
  'provisioning.dynamic_reprovisioning',
  'provisioning.global_endpoint',
  'provisioning.scope_id',
  'provisioning.registration_id',
  'provisioning.always_reprovision_on_startup',
  'provisioning.endpoint',
  'provisioning.authentication.method',
  'provisioning.authentication.device_connection_string',
  'provisioning.authentication.iothub_hostname',
  'provisioning.authentication.device_id',
  'provisioning.authentication.identity_cert',
  'provisioning.authentication.identity_pk',
  'provisioning.attestation.method',
  'provisioning.attestation.registration_id',
  'provisioning.attestation.symmetric_key',
  'provisioning.attestation.identity_cert',
  'provisioning.attestation.identity_pk',
  'agent.name',
  'agent.type',
  'agent.config.image',
  'agent.config.auth.username',
  'agent.config.auth.password',
  'agent.config.auth.serveraddress',
  'connect.management_uri',
  'connect.workload_uri',
  'listen.management_uri',
  'listen.workload_uri',
  'listen.min_tls_version',
  'moby_runtime.uri',
  'moby_runtime.network',
  'moby_runtime.network.name',
  'moby_runtime.network.ipv6',
  'certificates.device_ca_cert',
  'certificates.device_ca_pk',
  'certificates.trusted_ca_certs',
  'certificates.auto_generated_ca_lifetime_days',
  'watchdog.max_retries',
];

const KNOWN_KEYS = new Set([...TOP_LEVEL_SCALARS, ...NESTED_KEYS]);

export interface EnvOverride {
  /** The variable that set it, for error messages. */
  variable: string;
  path: string[];
  value: unknown;
}

/** The key path an `IOTEDGE_*` variable sets, or undefined when the variable is not a config override. */
export function overridePath(variable: string): string[] | undefined {
  if (!variable.startsWith(PREFIX)) return undefined;
  const segments = variable.slice(PREFIX.length).split('__');
  if (segments.some((segment) => segment === '')) return undefined;
  const lower = segments.map((segment) => segment.toLowerCase());
  if (lower.length === 3 && lower[0] === 'agent' && lower[1] === 'env') return ['agent', 'env', segments[2]];
  return KNOWN_KEYS.has(lower.join('.')) ? lower : undefined;
}

export function parseEnvValue(raw: string): unknown {
  if (raw === '') return '';
  try {
    const value = yaml.load(raw, { schema: yaml.CORE_SCHEMA });
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
  } catch {
    // Not valid YAML: the text itself is the value.
  }
  return raw;
}

/** The overrides `env` carries, sorted by variable name so the outcome does not depend on env order. */
export function envOverrides(env: NodeJS.ProcessEnv): EnvOverride[] {
  const overrides: EnvOverride[] = [];
  for (const variable of Object.keys(env).sort()) {
    const raw = env[variable];
    const path = overridePath(variable);
    if (raw === undefined || path === undefined) continue;
    overrides.push({ variable, path, value: parseEnvValue(raw) });
  }
  return overrides;
}

/** `config` with the overrides applied; `config` itself is not modified. */
export function applyEnvOverrides(config: Mapping, overrides: EnvOverride[]): Mapping {
  const result = structuredClone(config);
  for (const { path, value } of overrides) {
    let node = result;
    for (const [index, segment] of path.slice(0, -1).entries()) {
      node[segment] = asMapping(node[segment], path.slice(0, index + 1));
      node = node[segment] as Mapping;
    }
    node[path[path.length - 1]] = value;
  }
  return result;
}

function asMapping(current: unknown, path: string[]): Mapping {
  if (isMapping(current)) return current;
  // `moby_runtime.network` may be a bare name; setting one of its fields keeps that name.
  if (path.join('.') === 'moby_runtime.network' && typeof current === 'string') return { name: current };
  return {};
}
