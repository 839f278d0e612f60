import { rm } from 'node:fs/promises';
import path from 'node:path';

import type { ModuleRuntime } from '../modules/types.js';

/**
 * What the device kept for its previous identity (hub and device id), relative to the homedir: the
 * deployment its hub sent and the module identities made for it, and the Edge Hub's twins,
 * persistent sessions, queued messages, leaf devices and parent-scope identities.
 */
export const IDENTITY_STATE = [
  'agent/deployment.json',
  'agent/identities.json',
  'hub/twins.json',
  'hub/sessions.json',
  'hub/devices.json',
  'hub/scope-identities.json',
  'hub/messages.db',
  'hub/messages.db-wal',
  'hub/messages.db-shm',
];

/**
 * After DPS assigned a new hub or device id, as IoT Edge 1.1 does: every module is removed and
 * what belonged to the old identity is deleted, so the device starts afresh under the new one. A
 * runtime that cannot be reached (no container engine) is logged and skipped.
 */
export async function resetIdentityState(options: {
  homedir: string;
  runtimes: ModuleRuntime[];
  stopGraceMs: number;
  log(line: string): void;
}): Promise<void> {
  for (const runtime of options.runtimes) {
    let modules;
    try {
      modules = await runtime.list();
    } catch (error) {
      options.log(`provisioning: could not list modules to remove: ${(error as Error).message}`);
      continue;
    }
    for (const module of modules) {
      try {
        await runtime.stop(module.name, options.stopGraceMs).catch(() => undefined);
        await runtime.remove(module.name);
      } catch (error) {
        options.log(`provisioning: could not remove module ${module.name}: ${(error as Error).message}`);
      }
    }
  }
  await Promise.all(IDENTITY_STATE.map((file) => rm(path.join(options.homedir, file), { force: true })));
  options.log('provisioning: removed the modules and state of the previous identity');
}
