import { parseEdgeHubDesired, type EdgeHubDesired } from './edgehub-desired.js';
import { parseUpstreamProtocol } from './upstream-protocol.js';
import { parseMaxConnectedClients } from './max-connected-clients.js';
import { hubBindingProblem } from './listen-ports.js';
import type { DockerSettings, ImagePullPolicy, ModuleSpec } from '../modules/types.js';
import { parseCreateOptions } from './create-options.js';
import { DeploymentError, malformed } from './deployment-error.js';
import { nestedDeeperThan } from './json-depth.js';
import { twinSectionSizeProblem } from './twin-size.js';
import { describeJson, Fields, isObject, joinPath, type JsonObject } from './manifest-fields.js';
import {
  checkModuleName,
  IMAGE_PULL_POLICIES,
  parseEnv,
  parseImage,
  parseModule,
  USER_MODULE,
} from './manifest-modules.js';

// Type aliases rather than interfaces so that they fit where plain JSON records are expected.
export type RegistryCredential = {
  address: string;
  username: string;
  password: string;
};

export type RuntimeSettings = {
  minDockerVersion?: string;
  loggingOptions?: string;
  registryCredentials: Record<string, RegistryCredential>;
};

/** edgeAgent runs embedded in iotedged: its entry is recorded and reported, never started. */
export interface EdgeAgentSpec {
  type: 'docker';
  image: string;
  createOptions: Record<string, unknown>;
  env: Record<string, string>;
  imagePullPolicy: ImagePullPolicy;
}

/** A validated deployment manifest: `$edgeAgent` and `$edgeHub` desired properties. */
export interface Deployment {
  schemaVersion: string;
  runtime: { type: 'docker'; settings: RuntimeSettings };
  systemModules: { edgeAgent: EdgeAgentSpec; edgeHub: ModuleSpec };
  /** User modules, sorted by name. */
  modules: ModuleSpec[];
  /** Desired properties of every other `modulesContent` entry (`$edgeHub` included), as written. */
  moduleTwins: Record<string, Record<string, unknown>>;
  /** `$edgeHub` desired properties, routes compiled; absent when the manifest has none. */
  edgeHub?: EdgeHubDesired;
}

/**
 * What this device can run. The number of modules bounds what one deployment costs (each module
 * holds a socket, and a process module pipes and files); a module name must leave its workload
 * socket path within the unix limit, which depends on the homedir.
 */
export interface DeploymentLimits {
  maxModules: number;
  maxModuleNameBytes: number;
}

export const DEFAULT_LIMITS: DeploymentLimits = { maxModules: 1000, maxModuleNameBytes: 128 };

/**
 * How deeply a manifest may nest objects and arrays. IoT Hub allows twin properties 10 levels below
 * `properties.desired`, itself 3 or 4 levels into a manifest; far deeper documents (JSON.parse
 * takes any depth) would exhaust the stack when the deployment is saved or its twins merged.
 */
export const MAX_MANIFEST_DEPTH = 32;

const AGENT = '$edgeAgent';
const HUB = '$edgeHub';
const DESIRED = 'properties.desired';

/**
 * Validates a deployment manifest: `{"modulesContent": {...}}`, the same wrapped in `content` (as
 * `az iot edge deployment` files are), or the bare `modulesContent` object. Throws DeploymentError
 * with IoT Edge's code: 417 when `$edgeAgent` has no desired properties, 412 for a schemaVersion
 * other than 1.0 to 1.1, 400 for anything malformed. Paths in messages are relative to
 * `$edgeAgent`'s desired properties (`modules.x.status`) or name the twin (`x.properties.desired`);
 * a document nested more than MAX_MANIFEST_DEPTH levels is 400 as a whole.
 * The version is checked before the rest because a newer schema may have a different shape.
 */
export function parseDeployment(document: unknown, limits: DeploymentLimits = DEFAULT_LIMITS): Deployment {
  if (nestedDeeperThan(document, MAX_MANIFEST_DEPTH)) {
    throw malformed('(manifest)', `objects and arrays nested more than ${MAX_MANIFEST_DEPTH} levels deep`);
  }
  const desired = desiredOfTwins(document);
  const agent = desired[AGENT];
  if (agent === undefined || Object.keys(agent).every((key) => key.startsWith('$'))) {
    throw new DeploymentError(
      417,
      'empty configuration for the edge agent ($edgeAgent has no desired properties)',
    );
  }
  const schemaVersion = checkSchemaVersion(agent.schemaVersion);

  const root = new Fields('', agent);
  const moduleTwins: Record<string, Record<string, unknown>> = {};
  for (const [name, properties] of Object.entries(desired))
    if (name !== AGENT) moduleTwins[name] = properties;

  return {
    schemaVersion,
    runtime: parseRuntime(root.object('runtime')),
    systemModules: parseSystemModules(root.object('systemModules')),
    modules: parseModules(root.optionalObject('modules'), limits),
    moduleTwins,
    ...(desired[HUB] ? { edgeHub: parseEdgeHubDesired(desired[HUB]) } : {}),
  };
}

/**
 * The `properties.desired` of every twin a manifest sets (`$edgeAgent`, `$edgeHub`, modules), by
 * twin name, checked to be objects within IoT Hub's twin size limit: 400 naming the twin otherwise. The manifest's three
 * accepted wrappings are read as parseDeployment reads them.
 */
export function desiredOfTwins(document: unknown): Record<string, JsonObject> {
  const content = twinsOf(document);
  const desired: Record<string, JsonObject> = {};
  for (const [name, entry] of Object.entries(content)) {
    if (!isObject(entry)) throw malformed(name, `expected an object, found ${describeJson(entry)}`);
    const properties = entry[DESIRED];
    if (properties === undefined) throw malformed(name, `missing "${DESIRED}"`);
    if (!isObject(properties)) {
      throw malformed(`${name}.${DESIRED}`, `expected an object, found ${describeJson(properties)}`);
    }
    // IoT Hub refuses desired properties over its twin size limit; $edgeAgent's are bounded by
    // the deployment's own limits (a module count) instead
    const tooLarge = name === AGENT ? undefined : twinSectionSizeProblem('desired', properties);
    if (tooLarge) throw malformed(`${name}.${DESIRED}`, tooLarge);
    desired[name] = properties;
  }
  return desired;
}

function twinsOf(document: unknown): JsonObject {
  if (!isObject(document)) {
    throw malformed('(manifest)', `expected a JSON object, found ${describeJson(document)}`);
  }
  if (
    document.content !== undefined &&
    document.modulesContent === undefined &&
    document[AGENT] === undefined
  ) {
    return twinsOf(Fields.of(document.content, 'content').value);
  }
  if (document.modulesContent !== undefined)
    return Fields.of(document.modulesContent, 'modulesContent').value;
  return document;
}

const SCHEMA_VERSION = /^(\d+)\.(\d+)(?:\.(\d+)(?:\.(\d+))?)?$/;

/** IoT Edge compares as a .NET Version: major 1, at most 1.1.0 ("1.1.0.0" is above it). */
function checkSchemaVersion(value: unknown): string {
  const fail = (problem: string): never => {
    throw new DeploymentError(412, `schemaVersion: ${problem}; supported: 1.0, 1.1`, 'schemaVersion');
  };
  if (value === undefined) fail('missing');
  if (typeof value !== 'string') fail(`expected a string, found ${describeJson(value)}`);
  const version = (value as string).trim();
  const match = SCHEMA_VERSION.exec(version);
  if (match === null) fail(`${JSON.stringify(version.slice(0, 20))} is not a version`);
  const [major, minor, build, revision] = match!
    .slice(1)
    .map((part) => (part === undefined ? -1 : Number(part)));
  const supported = major === 1 && (minor === 0 || (minor === 1 && build <= 0 && revision === -1));
  if (!supported) fail(`unsupported version ${version}`);
  return version;
}

function parseRuntime(runtime: Fields): Deployment['runtime'] {
  runtime.choice('type', ['docker'] as const);
  const settings = runtime.optionalObject('settings');
  const registryCredentials: Record<string, RegistryCredential> = {};
  const credentials = settings?.optionalObject('registryCredentials');
  for (const name of Object.keys(credentials?.value ?? {})) {
    const entry = credentials!.object(name);
    registryCredentials[name] = {
      address: entry.nonEmptyString('address'),
      username: entry.string('username'),
      password: entry.string('password'),
    };
  }
  const result: RuntimeSettings = { registryCredentials };
  const minDockerVersion = settings?.optionalString('minDockerVersion');
  const loggingOptions = settings?.optionalString('loggingOptions');
  if (minDockerVersion !== undefined) result.minDockerVersion = minDockerVersion;
  if (loggingOptions !== undefined) result.loggingOptions = loggingOptions;
  return { type: 'docker', settings: result };
}

function parseSystemModules(system: Fields): Deployment['systemModules'] {
  const agent = system.object('edgeAgent');
  agent.choice('type', ['docker'] as const);
  const agentSettings = agent.object('settings');
  const edgeAgent: EdgeAgentSpec = {
    type: 'docker',
    image: parseImage(agentSettings),
    createOptions: parseCreateOptions(agentSettings.value, agentSettings.path),
    env: parseEnv(agent),
    imagePullPolicy: agent.choice('imagePullPolicy', IMAGE_PULL_POLICIES, 'on-create'),
  };
  const hub = system.object('edgeHub');
  const edgeHub = parseModule('edgeHub', hub.value, hub.path, { restartPolicy: 'always', types: ['docker'] });
  const protocol = parseUpstreamProtocol(edgeHub.env);
  if (typeof protocol === 'object')
    throw malformed(`${hub.path}.env.UpstreamProtocol.value`, protocol.problem);
  const maxClients = parseMaxConnectedClients(edgeHub.env);
  if (typeof maxClients === 'object')
    throw malformed(`${hub.path}.env.MaxConnectedClients.value`, maxClients.problem);
  const bindings = hubBindingProblem((edgeHub.settings as DockerSettings).createOptions);
  if (bindings) throw malformed(`${hub.path}.settings.createOptions.${bindings.path}`, bindings.problem);
  return { edgeAgent, edgeHub };
}

function parseModules(modules: Fields | undefined, limits: DeploymentLimits): ModuleSpec[] {
  if (modules === undefined) return [];
  const names = Object.keys(modules.value);
  if (names.length > limits.maxModules) {
    throw malformed(
      modules.path,
      `${names.length} modules; this device runs at most ${limits.maxModules} per deployment`,
    );
  }
  return names.sort().map((name) => {
    const path = joinPath(modules.path, name);
    checkModuleName(name, path);
    const bytes = Buffer.byteLength(name);
    if (bytes > limits.maxModuleNameBytes) {
      throw malformed(
        path,
        `the name has ${bytes} bytes; this device allows at most ${limits.maxModuleNameBytes} (the module's workload socket path must fit in 107 bytes)`,
      );
    }
    return parseModule(name, modules.value[name], path, USER_MODULE);
  });
}

/** The password every reported or printed copy of a registry credential shows. */
export const REDACTED = '***';

/** `runtime.settings` for reported properties and printing: passwords replaced by "***". */
export function reportedRuntimeSettings(deployment: Deployment): RuntimeSettings {
  const { registryCredentials, ...rest } = deployment.runtime.settings;
  const redacted: Record<string, RegistryCredential> = {};
  for (const [name, credential] of Object.entries(registryCredentials)) {
    redacted[name] = { ...credential, password: REDACTED };
  }
  return { ...rest, registryCredentials: redacted };
}

/** A copy of the deployment safe to log or print. */
export function redactDeployment(deployment: Deployment): Deployment {
  return {
    ...deployment,
    runtime: { type: deployment.runtime.type, settings: reportedRuntimeSettings(deployment) },
  };
}
