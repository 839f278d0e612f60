import { malformed } from './deployment-error.js';
import { nestedDeeperThan } from './json-depth.js';
import { desiredOfTwins, MAX_MANIFEST_DEPTH } from './manifest.js';
import type { JsonObject } from './manifest-fields.js';
import { checkModuleName } from './manifest-modules.js';

/** The twins a deployment for another edge device must set. */
const REQUIRED_TWINS = ['$edgeAgent', '$edgeHub'] as const;

/**
 * A deployment for a child edge device, read as IoT Hub reads one: only its shape is checked
 * (a JSON object whose `modulesContent` entries each hold a `properties.desired` object, with
 * `$edgeAgent` and `$edgeHub` among them, and module names the device could run). The schema
 * version, modules and routes are the child's agent to judge; it reports its verdict in its
 * `lastDesiredStatus`. Resolves to the desired properties by twin name; a broken manifest throws a
 * 400 DeploymentError naming the field.
 */
export function parseDeviceDeployment(document: unknown): Record<string, JsonObject> {
  if (nestedDeeperThan(document, MAX_MANIFEST_DEPTH)) {
    throw malformed('(manifest)', `objects and arrays nested more than ${MAX_MANIFEST_DEPTH} levels deep`);
  }
  const desired = desiredOfTwins(document);
  for (const twin of REQUIRED_TWINS) {
    if (desired[twin] === undefined)
      throw malformed(twin, 'missing (a deployment sets its desired properties)');
  }
  for (const name of Object.keys(desired)) {
    if (!(REQUIRED_TWINS as readonly string[]).includes(name)) checkModuleName(name, name);
  }
  return desired;
}
