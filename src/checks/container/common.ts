import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

import { filePathFromSetting } from '../../runtime/config/file-uri.js';
import type { Settings } from '../../runtime/config/settings.js';
import type { DiagnosticsRunResult } from '../support/run-diagnostics.js';

/**
 * Names the network the "default network" diagnostics containers join instead of the engine's default.
 * Needed where the engine has no default bridge (dockerd --bridge=none, as in CI): set it to `host`.
 */
export const DEFAULT_NETWORK_ENV = 'IOTEDGE_CHECK_DEFAULT_NETWORK';

export function defaultNetwork(env: NodeJS.ProcessEnv): string | undefined {
  const value = env[DEFAULT_NETWORK_ENV]?.trim();
  return value ? value : undefined;
}

/** What to show when a diagnostics container failed: its last stderr line first, then the exit code. */
export function containerFailure(result: DiagnosticsRunResult): { reason: string; causes: string[] } {
  const lines = result.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const exit = `The diagnostics container exited with code ${result.exitCode}.`;
  return lines.length > 0
    ? { reason: lines[lines.length - 1], causes: [...lines.slice(0, -1), exit] }
    : { reason: exit, causes: [] };
}

/** Where the host's trusted CA bundle is mounted in diagnostics containers. */
export const CONTAINER_CA_FILE = '/etc/iotedge-diagnostics/trusted-ca.pem';

/**
 * Bind and arguments that make a diagnostics container trust `certificates.trusted_ca_certs`, so a hub or
 * proxy with a private CA can be verified the way modules verify it. Only for a regular file: binding a
 * missing host path would make the engine create a directory there.
 */
export async function trustedCaMount(settings: Settings): Promise<{ binds: string[]; args: string[] }> {
  const setting = settings.certificates?.trusted_ca_certs;
  if (!setting) return { binds: [], args: [] };
  let path: string;
  try {
    path = resolve(filePathFromSetting(setting, 'certificates.trusted_ca_certs'));
    if (!(await stat(path)).isFile()) return { binds: [], args: [] };
  } catch {
    return { binds: [], args: [] };
  }
  return { binds: [`${path}:${CONTAINER_CA_FILE}:ro`], args: ['--ca-file', CONTAINER_CA_FILE] };
}
