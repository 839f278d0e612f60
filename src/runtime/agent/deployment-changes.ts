import type { ModuleSpec } from '../modules/types.js';
import { canonicalJson } from '../deployment/config-hash.js';
import type { Deployment } from '../deployment/manifest.js';

/**
 * What a new deployment changes for the modules of the one it replaces (edgeHub included), by
 * module name in name order: the agent's plan for it, before any runtime is asked.
 */
export interface DeploymentChanges {
  /** Modules the previous deployment did not have: created (and started when they should run). */
  added: string[];
  /** Modules whose configuration changed (image, command, env, policies...): recreated. */
  updated: string[];
  /** Modules the new deployment drops: stopped and removed. */
  removed: string[];
  /** Same configuration, desired status now `running`. */
  started: string[];
  /** Same configuration, desired status now `stopped`. */
  stopped: string[];
  /** Existing modules (and `$edgeHub`) whose desired properties changed. */
  desiredProperties: string[];
  /** How many modules stay as they are (their desired properties may still change). */
  unchanged: number;
}

function specsOf(deployment: Deployment | undefined): Map<string, ModuleSpec> {
  if (!deployment) return new Map();
  const specs = [...deployment.modules, { ...deployment.systemModules.edgeHub, name: 'edgeHub' }];
  return new Map(specs.map((spec) => [spec.name, spec]));
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A deployment that changes nothing and keeps no module. */
export function noChanges(): DeploymentChanges {
  return {
    added: [],
    updated: [],
    removed: [],
    started: [],
    stopped: [],
    desiredProperties: [],
    unchanged: 0,
  };
}

/** The changes from `previous` (none before the first deployment) to `next`. */
export function deploymentChanges(previous: Deployment | undefined, next: Deployment): DeploymentChanges {
  const before = specsOf(previous);
  const after = specsOf(next);
  const changes = noChanges();
  changes.removed = [...before.keys()].filter((name) => !after.has(name)).sort(byName);
  for (const [name, spec] of [...after].sort(([a], [b]) => byName(a, b))) {
    const old = before.get(name);
    if (!old) changes.added.push(name);
    else if (old.configHash !== spec.configHash) changes.updated.push(name);
    else if (old.status !== spec.status)
      (spec.status === 'running' ? changes.started : changes.stopped).push(name);
    else changes.unchanged += 1;
  }
  if (previous) {
    const twins = new Set([...Object.keys(previous.moduleTwins), ...Object.keys(next.moduleTwins)]);
    changes.desiredProperties = [...twins]
      .filter((name) => !changes.added.includes(name) && !changes.removed.includes(name))
      .filter((name) => canonicalJson(previous.moduleTwins[name]) !== canonicalJson(next.moduleTwins[name]))
      .sort(byName);
  }
  return changes;
}
