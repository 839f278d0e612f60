import yaml from 'js-yaml';
import { readBoundedText, type FileReadError } from '../files/bounded-read.js';
import { FILE_LIMITS } from '../files/file-limits.js';
import { defaultConfig } from './defaults.js';
import { applyEnvOverrides, envOverrides, type EnvOverride } from './env-overrides.js';
import { ConfigError, SchemaViolation } from './errors.js';
import { describeType } from './fields.js';
import { deepMerge, isMapping, type Mapping } from './merge.js';
import type { Settings } from './settings.js';
import { validateSettings } from './validate.js';
import { yamlReason } from './yaml-reason.js';

export { ConfigError } from './errors.js';

/**
 * Reads config.yaml the way the 1.1 daemon does: built-in defaults, then the file merged over them,
 * then `IOTEDGE_*` environment overrides (see env-overrides.ts), validated against the schema.
 * Throws a ConfigError; when the file cannot be read its `code` is the errno code (EACCES, ENOENT, …),
 * EFTYPE when it is not a regular file (a FIFO would block forever) or EFBIG when it is over 1 MiB.
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv): Promise<Settings> {
  let text: string;
  try {
    text = await readBoundedText(file, { maxBytes: FILE_LIMITS.config });
  } catch (error) {
    const { code, reason } = error as FileReadError;
    throw new ConfigError(`Could not open file ${file}: ${reason}`, { file, code, cause: error });
  }
  return parseConfig(text, file, env);
}

/** loadConfig for text already read; `file` is only used in error messages. */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv): Settings {
  const overrides = envOverrides(env);
  const merged = applyEnvOverrides(deepMerge(defaultConfig(), parseYaml(text, file)), overrides);
  try {
    return validateSettings(merged);
  } catch (error) {
    if (!(error instanceof SchemaViolation)) throw error;
    const origin = overrides.find((override) => setsKeyPath(override, error.keyPath));
    const suffix = origin === undefined ? '' : ` (set by environment variable ${origin.variable})`;
    throw new ConfigError(`${file}: ${error.message}${suffix}`, { file, keyPath: error.keyPath });
  }
}

function parseYaml(text: string, file: string): Mapping {
  let document: unknown;
  try {
    document = yaml.load(text, { filename: file });
  } catch (error) {
    if (!(error instanceof yaml.YAMLException)) {
      throw new ConfigError(`${file}: YAML error: ${yamlReason(error)}`, { file, cause: error });
    }
    // some errors (several documents in one file) have no position
    const mark = (error as { mark?: { line?: unknown; column?: unknown } }).mark;
    if (typeof mark?.line !== 'number' || typeof mark.column !== 'number') {
      throw new ConfigError(`${file}: YAML error: ${yamlReason(error)}`, { file });
    }
    // js-yaml counts from 0; editors count from 1.
    const line = mark.line + 1;
    const column = mark.column + 1;
    throw new ConfigError(
      `${file}: YAML syntax error at line ${line}, column ${column}: ${yamlReason(error)}`,
      {
        file,
        line,
        column,
      },
    );
  }
  // An empty file leaves the defaults as they are, as the original loader did.
  if (document === undefined || document === null) return {};
  if (!isMapping(document)) {
    throw new ConfigError(`${file}: expected a mapping at the top level, found ${describeType(document)}`, {
      file,
    });
  }
  return document;
}

function setsKeyPath(override: EnvOverride, keyPath: string): boolean {
  const path = override.path.join('.');
  return keyPath === path || keyPath.startsWith(`${path}.`) || path.startsWith(`${keyPath}.`);
}
