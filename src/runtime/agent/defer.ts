import type { ModuleSpec } from '../modules/types.js';
import type { Command } from './plan.js';

export interface Deferred {
  groups: Command[][];
  /** Modules whose creation waits, each with why. */
  waiting: Map<string, 'preparing' | 'earlier-group'>;
}

/**
 * Takes out of a plan the creations that cannot happen yet: a module whose preparation (image
 * pull) is not done keeps its current container, if any, until it is; and since startupOrder
 * means a group is created only after the groups before it, creations in later groups wait too.
 * Every other command (restarts, stops, removals) runs, so supervision never waits for a pull.
 */
export function deferUnprepared(
  groups: readonly Command[][],
  ready: (spec: ModuleSpec) => boolean,
): Deferred {
  const waiting = new Map<string, 'preparing' | 'earlier-group'>();
  let earlierWaits = false;
  const result = groups.map((group) => {
    const held = new Set<string>();
    const kept: Command[] = [];
    for (const command of group) {
      const name = 'spec' in command ? command.spec.name : command.name;
      if (held.has(name)) continue;
      if (command.kind === 'create' || command.kind === 'recreate') {
        // asked even for later groups, so that their pulls run alongside
        const reason = !ready(command.spec) ? 'preparing' : earlierWaits ? 'earlier-group' : undefined;
        if (reason) {
          held.add(name);
          waiting.set(name, reason);
          continue;
        }
      }
      kept.push(command);
    }
    if (held.size > 0) earlierWaits = true;
    return kept;
  });
  return { groups: result, waiting };
}
