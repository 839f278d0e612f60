import { readBoundedText } from '../../runtime/files/bounded-read.js';
import { FILE_LIMITS } from '../../runtime/files/file-limits.js';

/*
 * The container engine's daemon.json, read the way the real checks read it: each check deserializes only the
 * keys it cares about, so a wrong type under an unrelated key does not fail it, and unknown keys are ignored.
 */

export type DaemonJsonFile =
  | { kind: 'ok'; config: Record<string, unknown> }
  /** Missing or unreadable: `error` says why (ENOENT, EACCES...). */
  | { kind: 'unreadable'; error: Error }
  /** Not a JSON object. */
  | { kind: 'invalid'; error: Error };

/** Parses daemon.json text; throws when it is not JSON or not a JSON object. */
export function parseDaemonJson(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(
      `expected a JSON object, found ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`,
    );
  }
  return value as Record<string, unknown>;
}

export async function readDaemonJson(path: string): Promise<DaemonJsonFile> {
  let text: string;
  try {
    text = await readBoundedText(path, { maxBytes: FILE_LIMITS.settings });
  } catch (error) {
    return { kind: 'unreadable', error: error as Error };
  }
  try {
    return { kind: 'ok', config: parseDaemonJson(text) };
  } catch (error) {
    return { kind: 'invalid', error: error as Error };
  }
}

const typeError = (key: string, expected: string, value: unknown) =>
  new Error(`invalid type for "${key}": expected ${expected}, found ${JSON.stringify(value)}`);

/** `dns`: the DNS servers containers get, or undefined when absent/null. Throws on a wrong type. */
export function dnsServers(config: Record<string, unknown>): string[] | undefined {
  const dns = config.dns;
  if (dns === undefined || dns === null) return undefined;
  if (!Array.isArray(dns) || dns.some((entry) => typeof entry !== 'string')) {
    throw typeError('dns', 'an array of strings', dns);
  }
  return dns as string[];
}

/** `ipv6`, or undefined when absent/null. Throws on a wrong type. */
export function ipv6Setting(config: Record<string, unknown>): boolean | undefined {
  const ipv6 = config.ipv6;
  if (ipv6 === undefined || ipv6 === null) return undefined;
  if (typeof ipv6 !== 'boolean') throw typeError('ipv6', 'a boolean', ipv6);
  return ipv6;
}

export interface LogPolicy {
  'log-driver'?: string;
  'log-opts'?: { 'max-file'?: string; 'max-size'?: string };
}

const optionalString = (key: string, value: unknown): string | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw typeError(key, 'a string', value);
  return value;
};

/** `log-driver` and the rotation keys of `log-opts`. Throws on a wrong type. */
export function logPolicy(config: Record<string, unknown>): LogPolicy {
  const policy: LogPolicy = {};
  const driver = optionalString('log-driver', config['log-driver']);
  if (driver !== undefined) policy['log-driver'] = driver;
  const opts = config['log-opts'];
  if (opts !== undefined && opts !== null) {
    if (typeof opts !== 'object' || Array.isArray(opts)) throw typeError('log-opts', 'an object', opts);
    const record = opts as Record<string, unknown>;
    policy['log-opts'] = {};
    const maxFile = optionalString('log-opts.max-file', record['max-file']);
    const maxSize = optionalString('log-opts.max-size', record['max-size']);
    if (maxFile !== undefined) policy['log-opts']['max-file'] = maxFile;
    if (maxSize !== undefined) policy['log-opts']['max-size'] = maxSize;
  }
  return policy;
}

/**
 * Drivers that rotate by themselves: journald (journald's own limits; accepted by IoT Edge 1.4) and
 * local (Docker rotates it by default: 5 files of 20 MB).
 */
const SELF_ROTATING_DRIVERS = new Set(['journald', 'local']);

/** Whether module logs are rotated: a self-rotating driver, or a driver with max-file and max-size. */
export function logsRotate(policy: LogPolicy): boolean {
  const driver = policy['log-driver'];
  if (driver === undefined) return false;
  if (SELF_ROTATING_DRIVERS.has(driver)) return true;
  return policy['log-opts']?.['max-file'] !== undefined && policy['log-opts']?.['max-size'] !== undefined;
}

export type Ipv6Verdict = 'ok' | 'failed' | 'ignored' | 'unsupported';

/**
 * container-engine-ipv6: `expected` is moby_runtime.network.ipv6; `actual` the daemon's ipv6 key
 * (undefined when daemon.json is absent or has no such key).
 */
export function ipv6Verdict(
  expected: boolean,
  actual: boolean | undefined,
  platform: NodeJS.Platform,
): Ipv6Verdict {
  if (actual === true) return platform === 'win32' ? 'unsupported' : 'ok';
  return expected ? 'failed' : 'ignored';
}
