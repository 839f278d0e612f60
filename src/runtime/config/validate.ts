import { DEFAULT_AUTO_GENERATED_CA_LIFETIME_DAYS, DEFAULT_NETWORK_NAME } from './defaults.js';
import { SchemaViolation } from './errors.js';
import { describeType, Section } from './fields.js';
import type { AgentSettings, CertificateSettings, MobyNetwork, RegistryAuth, Settings } from './settings.js';
import { readProvisioning } from './validate-provisioning.js';

type TlsVersion = NonNullable<Settings['listen']['min_tls_version']>;

// Spellings the 1.1 daemon accepted for each version, compared case-insensitively.
const TLS_ALIASES: Record<string, TlsVersion> = {
  tls: 'tls1.0',
  tls1: 'tls1.0',
  tls10: 'tls1.0',
  'tls1.0': 'tls1.0',
  tls1_0: 'tls1.0',
  tlsv10: 'tls1.0',
  tls11: 'tls1.1',
  'tls1.1': 'tls1.1',
  tls1_1: 'tls1.1',
  tlsv11: 'tls1.1',
  tls12: 'tls1.2',
  'tls1.2': 'tls1.2',
  tls1_2: 'tls1.2',
  tlsv12: 'tls1.2',
};

const U16_MAX = 65_535;
const U32_MAX = 4_294_967_295;

/**
 * The merged configuration (defaults, file, environment) checked against the 1.1 schema and turned into
 * Settings. Throws a SchemaViolation naming the first offending key path.
 */
export function validateSettings(config: unknown): Settings {
  const root = Section.of(config, '');
  const settings: Settings = {
    provisioning: readProvisioning(root),
    allow_elevated_docker_permissions: root.boolean('allow_elevated_docker_permissions', true),
    agent: readAgent(root.section('agent')),
    hostname: root.string('hostname'),
    connect: readConnect(root.section('connect')),
    listen: readListen(root.section('listen')),
    homedir: readHomedir(root),
    moby_runtime: readMobyRuntime(root.section('moby_runtime')),
  };
  const parentHostname = root.optionalString('parent_hostname');
  if (parentHostname !== undefined) settings.parent_hostname = parentHostname;
  const certificates = root.optionalSection('certificates');
  if (certificates !== undefined) settings.certificates = readCertificates(certificates);
  const watchdog = root.optionalSection('watchdog');
  if (watchdog !== undefined) settings.watchdog = readWatchdog(watchdog);
  return settings;
}

function readAgent(agent: Section): AgentSettings {
  const name = agent.string('name');
  if (name === '') agent.fail('name', 'must not be empty');
  const type = agent.string('type');
  if (type === '') agent.fail('type', 'must not be empty');
  const config = agent.section('config');
  const result: AgentSettings = {
    name,
    type,
    env: agent.stringMap('env'),
    config: { image: config.string('image') },
  };
  const createOptions = config.optionalSection('createOptions');
  if (createOptions !== undefined) result.config.createOptions = createOptions.value;
  const auth = config.optionalSection('auth');
  if (auth !== undefined) result.config.auth = readRegistryAuth(auth);
  return result;
}

function readRegistryAuth(auth: Section): RegistryAuth {
  const result: RegistryAuth = {};
  for (const key of ['username', 'password', 'serveraddress'] as const) {
    const value = auth.optionalString(key);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

function readConnect(connect: Section): Settings['connect'] {
  return {
    management_uri: socketUri(connect, 'management_uri'),
    workload_uri: socketUri(connect, 'workload_uri'),
  };
}

/** A connect URI; a `unix` one is bind-mounted into the agent, so it needs an absolute socket path. */
function socketUri(connect: Section, name: string): string {
  const value = connect.url(name, ['http', 'unix']);
  const url = new URL(value);
  if (url.protocol === 'unix:' && !url.pathname.startsWith('/')) {
    connect.fail(name, `unix URL ${JSON.stringify(value)} has no absolute socket path`);
  }
  return value;
}

function readListen(listen: Section): Settings['listen'] {
  const result: Settings['listen'] = {
    management_uri: listen.url('management_uri', ['http', 'unix', 'fd']),
    workload_uri: listen.url('workload_uri', ['http', 'unix', 'fd']),
  };
  const minTls = listen.optionalString('min_tls_version');
  if (minTls !== undefined) {
    const version = TLS_ALIASES[minTls.toLowerCase()];
    if (version === undefined) {
      listen.fail(
        'min_tls_version',
        `Unsupported TLS protocol version: ${minTls} (expected tls1.0, tls1.1 or tls1.2)`,
      );
    }
    result.min_tls_version = version;
  }
  return result;
}

function readHomedir(root: Section): string {
  const homedir = root.string('homedir');
  if (homedir === '') root.fail('homedir', 'must not be empty');
  return homedir;
}

function readMobyRuntime(moby: Section): Settings['moby_runtime'] {
  const uri = moby.url('uri');
  if (!moby.has('network')) moby.fail('network', 'missing required field');
  const network = moby.value.network;
  if (typeof network === 'string') return { uri, network: network === '' ? DEFAULT_NETWORK_NAME : network };
  return { uri, network: readNetwork(moby.section('network')) };
}

function readNetwork(network: Section): MobyNetwork {
  const result: MobyNetwork = { name: network.string('name') };
  const ipv6 = network.optionalBoolean('ipv6');
  if (ipv6 !== undefined) result.ipv6 = ipv6;
  const ipam = network.optionalSection('ipam');
  if (ipam !== undefined) {
    result.ipam = {};
    if (ipam.has('config')) {
      const entries = ipam.value.config;
      if (!Array.isArray(entries)) {
        throw new SchemaViolation(ipam.key('config'), `expected a sequence, found ${describeType(entries)}`);
      }
      result.ipam.config = entries.map((entry, index) => {
        const item = Section.of(entry, `${ipam.key('config')}[${index}]`);
        const config: { gateway?: string; subnet?: string; ip_range?: string } = {};
        for (const key of ['gateway', 'subnet', 'ip_range'] as const) {
          const value = item.optionalString(key);
          if (value !== undefined) config[key] = value;
        }
        return config;
      });
    }
  }
  return result;
}

const DEVICE_CERT_KEYS = ['device_ca_cert', 'device_ca_pk', 'trusted_ca_certs'] as const;

function readCertificates(certificates: Section): CertificateSettings {
  const result: CertificateSettings = {
    auto_generated_ca_lifetime_days: certificates.has('auto_generated_ca_lifetime_days')
      ? certificates.integer('auto_generated_ca_lifetime_days', 0, U16_MAX)
      : DEFAULT_AUTO_GENERATED_CA_LIFETIME_DAYS,
  };
  const present = DEVICE_CERT_KEYS.filter((key) => certificates.has(key));
  // trusted_ca_certs alone adds CAs to the trust bundle (a parent edge device's root) while the
  // device keeps its quickstart CA; a device CA needs all three
  const trustedOnly = present.length === 1 && present[0] === 'trusted_ca_certs';
  if (present.length > 0 && present.length < DEVICE_CERT_KEYS.length && !trustedOnly) {
    const missing = DEVICE_CERT_KEYS.filter((key) => !certificates.has(key));
    throw new SchemaViolation(
      certificates.path,
      `device_ca_cert, device_ca_pk and trusted_ca_certs must be set together (missing ${missing.join(', ')})`,
    );
  }
  for (const key of present) result[key] = certificates.filePath(key);
  return result;
}

function readWatchdog(watchdog: Section): NonNullable<Settings['watchdog']> {
  // Absent or null max_retries means "retry forever".
  return watchdog.has('max_retries') ? { max_retries: watchdog.integer('max_retries', 0, U32_MAX) } : {};
}
