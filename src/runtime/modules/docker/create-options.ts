import { CONTAINER_WORKLOAD_DIR } from '../../workload/socket-layout.js';
import {
  CONFIG_HASH_LABEL,
  CONTRACT_LABEL,
  CONTRACT_VERSION,
  HOMEDIR_LABEL,
  LABEL_PREFIX,
  ORIGINAL_IMAGE_LABEL,
  OWNER_LABEL,
} from './labels.js';
import { homedirLabelValue } from './ownership.js';

/** What the runtime adds to a module's createOptions (as IoT Edge has it). */
export interface CreateContext {
  name: string;
  image: string;
  configHash: string;
  owner: string;
  /** The daemon's homedir, which the container carries so that only this daemon takes it for its own. */
  homedir: string;
  /** The environment computed by the agent; wins over the user's `Env` entries of the same name. */
  env: Record<string, string>;
  /** moby_runtime.network; used when the user chose no network. */
  network: string;
  allowElevated: boolean;
  /** The module's workload directory on the host when it exists, else undefined (no bind). */
  workloadDirectory?: string;
}

/** Dropped when elevated permissions are not allowed, unless the user's CapAdd names them. */
const UNSAFE_CAPABILITIES = ['CHOWN', 'SETUID'];

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringList = (value: unknown, field: string): string[] => {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new Error(`createOptions.${field} must be an array of strings`);
  }
  return value as string[];
};

const objectField = (parent: Json, key: string, field: string): Json => {
  const value = parent[key];
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new Error(`createOptions.${field} must be an object`);
  return { ...value };
};

/** `CAP_CHOWN` and `chown` name the same capability as `CHOWN`. */
const capabilityName = (cap: string): string => cap.toUpperCase().replace(/^CAP_/, '');

/** User `Env` entries, then the runtime's environment: a name set by both takes the runtime's value. */
export function mergeEnv(userEnv: string[], env: Record<string, string>): string[] {
  const nameOf = (entry: string) => {
    const equals = entry.indexOf('=');
    return equals < 0 ? entry : entry.slice(0, equals);
  };
  const kept = userEnv.filter((entry) => !Object.hasOwn(env, nameOf(entry)));
  return [...kept, ...Object.entries(env).map(([key, value]) => `${key}=${value}`)];
}

/** Strips Privileged and CapAdd and drops CHOWN/SETUID unless explicitly added (IoT Edge's agent does so when elevated Docker permissions are not allowed). */
export function dropElevatedPermissions(hostConfig: Json): Json {
  const capAdd = stringList(hostConfig.CapAdd, 'HostConfig.CapAdd').map(capabilityName);
  const capDrop = stringList(hostConfig.CapDrop, 'HostConfig.CapDrop');
  const dropped = new Set(capDrop.map(capabilityName));
  const extra = UNSAFE_CAPABILITIES.filter((cap) => !capAdd.includes(cap) && !dropped.has(cap));
  const result: Json = { ...hostConfig, Privileged: false, CapDrop: [...capDrop, ...extra] };
  delete result.CapAdd;
  return result;
}

/**
 * The ContainerCreate body for a module: the user's createOptions with the runtime's additions.
 * Pure: the caller decides whether the workload directory exists.
 */
export function buildCreateOptions(createOptions: Json, context: CreateContext): Json {
  if (!isObject(createOptions)) throw new Error('createOptions must be a JSON object');
  const options: Json = { ...createOptions, Image: context.image };

  options.Env = mergeEnv(stringList(createOptions.Env, 'Env'), context.env);

  const userLabels = objectField(createOptions, 'Labels', 'Labels');
  const labels: Json = Object.fromEntries(
    Object.entries(userLabels).filter(([key]) => !key.startsWith(LABEL_PREFIX)),
  );
  labels[OWNER_LABEL] = context.owner;
  labels[HOMEDIR_LABEL] = homedirLabelValue(context.homedir);
  labels[ORIGINAL_IMAGE_LABEL] = context.image;
  labels[CONFIG_HASH_LABEL] = context.configHash;
  labels[CONTRACT_LABEL] = CONTRACT_VERSION;
  options.Labels = labels;

  let hostConfig = objectField(createOptions, 'HostConfig', 'HostConfig');
  if (context.workloadDirectory) {
    const binds = stringList(hostConfig.Binds, 'HostConfig.Binds');
    hostConfig.Binds = [...binds, `${context.workloadDirectory}:${CONTAINER_WORKLOAD_DIR}`];
  }
  const networking = objectField(createOptions, 'NetworkingConfig', 'NetworkingConfig');
  const endpoints = networking.EndpointsConfig;
  const hasEndpoints = isObject(endpoints) && Object.keys(endpoints).length > 0;
  if (!hasEndpoints && (hostConfig.NetworkMode === undefined || hostConfig.NetworkMode === '')) {
    hostConfig.NetworkMode = context.network;
  }
  if (!context.allowElevated) hostConfig = dropElevatedPermissions(hostConfig);
  options.HostConfig = hostConfig;
  return options;
}
