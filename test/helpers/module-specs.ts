import { configHash } from '../../src/runtime/deployment/config-hash.js';
import type { ModuleSpec } from '../../src/runtime/modules/types.js';

export type UnhashedSpec = Omit<ModuleSpec, 'configHash'>;

/**
 * What the agent makes of a process module `name` running `/usr/bin/node <name>.js` with every
 * optional field left to its default, with `fields` set over it.
 */
export function unhashedProcessSpec(
  name: string,
  fields: Partial<Omit<ModuleSpec, 'name' | 'configHash'>> = {},
): UnhashedSpec {
  return {
    name,
    type: 'process',
    status: 'running',
    restartPolicy: 'on-unhealthy',
    imagePullPolicy: 'on-create',
    startupOrder: 4294967295,
    version: '',
    env: {},
    settings: { command: '/usr/bin/node', args: [`${name}.js`] },
    ...fields,
  };
}

/** unhashedProcessSpec with the configHash the agent computes for it. */
export function processModuleSpec(
  name: string,
  fields: Partial<Omit<ModuleSpec, 'name' | 'configHash'>> = {},
): ModuleSpec {
  const unhashed = unhashedProcessSpec(name, fields);
  return { ...unhashed, configHash: configHash(unhashed) };
}
