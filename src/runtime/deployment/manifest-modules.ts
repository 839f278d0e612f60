import type {
  DockerSettings,
  ImagePullPolicy,
  ModuleSpec,
  ProcessSettings,
  RestartPolicy,
} from '../modules/types.js';
import { configHash } from './config-hash.js';
import { parseCreateOptions } from './create-options.js';
import { malformed } from './deployment-error.js';
import { describeJson, Fields, isObject, quote } from './manifest-fields.js';
import { parseProcessSettings } from './process-settings.js';

export const RESTART_POLICIES: readonly RestartPolicy[] = ['never', 'on-failure', 'on-unhealthy', 'always'];
export const IMAGE_PULL_POLICIES: readonly ImagePullPolicy[] = ['on-create', 'never'];
export const LAST_STARTUP_ORDER = 4294967295;

/** IoT Hub's module id alphabet (up to 128 characters); `/` is not in it. */
const MODULE_NAME = /^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$/;

/** A name under `modules`: a valid IoT Hub module id, not a system module, not `$…`. */
export function checkModuleName(name: string, path: string): void {
  if (name === '') throw malformed(path, 'a module name must not be empty');
  if (name.startsWith('$')) throw malformed(path, 'a module name must not start with $');
  if (name === 'edgeAgent' || name === 'edgeHub') {
    throw malformed(path, `${name} is a system module: declare it under systemModules`);
  }
  if (name === '.' || name === '..' || !MODULE_NAME.test(name)) {
    throw malformed(
      path,
      "a module name has at most 128 characters among letters, digits and - . + % _ # * ? ! ( ) , : = @ $ '",
    );
  }
}

/** `{"NAME": {"value": "…"}}`. Numbers and booleans are accepted as text, as IoT Edge does. */
export function parseEnv(module: Fields): Record<string, string> {
  const section = module.optionalObject('env');
  const env: Record<string, string> = {};
  if (section === undefined) return env;
  for (const [name, entry] of Object.entries(section.value)) {
    const path = section.key(name);
    if (name === '' || name.includes('=') || name.includes('\0')) {
      throw malformed(path, 'an environment variable name must be non-empty, without = or NUL');
    }
    if (!isObject(entry)) {
      throw malformed(path, `expected an object like {"value": "…"}, found ${describeJson(entry)}`);
    }
    const value = entry.value;
    if (value === undefined) throw malformed(`${path}.value`, 'missing (required)');
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw malformed(`${path}.value`, `expected a string, found ${describeJson(value)}`);
    }
    if (typeof value === 'string' && value.includes('\0'))
      throw malformed(`${path}.value`, 'must not contain a NUL character');
    env[name] = String(value);
  }
  return env;
}

/** Linux's limit on one argument or environment entry (MAX_ARG_STRLEN, with its NUL). */
const MAX_EXEC_STRING_BYTES = 128 * 1024 - 1;
/**
 * What a module's program may be given in all, below Linux's usual 2 MiB for arguments and
 * environment together, leaving room for the variables the runtime adds.
 */
const MAX_EXEC_BYTES = 1024 * 1024;

/**
 * A program whose arguments and environment exceed what exec accepts would fail at every start:
 * refused with the deployment instead. A container gets the environment only (its command line
 * is the engine's to check).
 */
function checkExecSize(spec: Omit<ModuleSpec, 'configHash'>, path: string): void {
  const entries: [string, string][] = Object.entries(spec.env).map(([name, value]) => [
    `${path}.env.${name}`,
    `${name}=${value}`,
  ]);
  if (spec.type === 'process') {
    const { command, args } = spec.settings as ProcessSettings;
    entries.push([`${path}.settings.command`, command]);
    args.forEach((arg, index) => entries.push([`${path}.settings.args[${index}]`, arg]));
  }
  let total = 0;
  for (const [at, text] of entries) {
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_EXEC_STRING_BYTES)
      throw malformed(at, `${bytes} bytes; a program accepts at most ${MAX_EXEC_STRING_BYTES} in one entry`);
    total += bytes + 1;
  }
  if (total > MAX_EXEC_BYTES)
    throw malformed(
      path,
      `arguments and environment take ${total} bytes; a module's program is given at most ${MAX_EXEC_BYTES}`,
    );
}

/** Docker's `[registry/][repo/]name[:tag]`, as IoT Edge checks it; `:latest` when no tag. */
const IMAGE = /^(?:[^/]*\/)*[^/:]+(?::[^/:]+)?$/;

export function parseImage(settings: Fields): string {
  const image = settings.nonEmptyString('image');
  if (/\s/.test(image) || !IMAGE.test(image))
    settings.fail('image', `${quote(image)} is not a valid image name`);
  return /:[^/:]+$/.test(image) ? image : `${image}:latest`;
}

export function parseDockerSettings(settings: Fields): DockerSettings {
  return { image: parseImage(settings), createOptions: parseCreateOptions(settings.value, settings.path) };
}

export interface ModuleDefaults {
  restartPolicy: RestartPolicy;
  types: readonly ModuleSpec['type'][];
}

export const USER_MODULE: ModuleDefaults = { restartPolicy: 'on-unhealthy', types: ['docker', 'process'] };

/** One module entry of `$edgeAgent`'s `modules` (or a system module), `process` modules included; `path` is where it was found. */
export function parseModule(
  name: string,
  value: unknown,
  path: string,
  defaults: ModuleDefaults,
): ModuleSpec {
  const module = Fields.of(value, path);
  const type = module.choice('type', defaults.types);
  const settings = module.object('settings');
  const spec: Omit<ModuleSpec, 'configHash'> = {
    name,
    type,
    status: module.choice('status', ['running', 'stopped']),
    restartPolicy: module.choice('restartPolicy', RESTART_POLICIES, defaults.restartPolicy),
    imagePullPolicy: module.choice('imagePullPolicy', IMAGE_PULL_POLICIES, 'on-create'),
    startupOrder: module.integer('startupOrder', 0, LAST_STARTUP_ORDER, LAST_STARTUP_ORDER),
    version: module.has('version') ? module.string('version') : '',
    env: parseEnv(module),
    settings: type === 'process' ? parseProcessSettings(settings) : parseDockerSettings(settings),
  };
  checkExecSize(spec, path);
  return { ...spec, configHash: configHash(spec) };
}
