import { createHash } from 'node:crypto';
import type { ModuleSpec } from '../modules/types.js';

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(item).sort()) sorted[key] = (item as Record<string, unknown>)[key];
    return sorted;
  });
}

/**
 * sha256 (hex) of everything in a module spec that needs a recreate when it changes: all but the
 * desired `status` (a status change is a start or stop) and the hash itself.
 */
export function configHash(spec: Omit<ModuleSpec, 'configHash'> | ModuleSpec): string {
  const { status: _status, configHash: _hash, ...rest } = spec as ModuleSpec;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}
