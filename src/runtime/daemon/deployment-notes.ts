import type { DeploymentChanges } from '../agent/deployment-changes.js';

/**
 * What POST /deployment says besides the reported properties (its body): the changes the
 * deployment brought and warnings for the operator. They travel in one response header, so that
 * the body stays exactly the agent's reported properties.
 */
export interface DeploymentNotes {
  changes?: DeploymentChanges;
  warnings?: string[];
}

export const DEPLOYMENT_NOTES_HEADER = 'iotedge-deployment-notes';

/**
 * Where the running deployment came from, beside GET /deployment/status's body (which stays the
 * agent's reported properties): `local`, or `upstream` with the desired versions it was made of
 * (`upstream; edgeAgent=4; edgeHub=2`).
 */
export const DEPLOYMENT_SOURCE_HEADER = 'iotedge-deployment-source';

/** The header value: JSON with every character outside printable ASCII escaped, as headers need. */
export function encodeDeploymentNotes(notes: DeploymentNotes): string {
  return JSON.stringify(notes).replace(
    /[^\x20-\x7e]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const isNames = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

const CHANGE_LISTS = ['added', 'updated', 'removed', 'started', 'stopped', 'desiredProperties'] as const;

function changesOf(value: unknown): DeploymentChanges | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  if (!CHANGE_LISTS.every((key) => isNames(record[key]))) return undefined;
  if (typeof record.unchanged !== 'number') return undefined;
  return value as DeploymentChanges;
}

/** The notes of a header value; anything malformed (or no header) reads as no notes. */
export function decodeDeploymentNotes(header: string | undefined): DeploymentNotes {
  if (!header) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== 'object') return {};
  const { changes, warnings } = parsed as Record<string, unknown>;
  const notes: DeploymentNotes = {};
  const valid = changesOf(changes);
  if (valid) notes.changes = valid;
  if (isNames(warnings) && warnings.length > 0) notes.warnings = warnings;
  return notes;
}

/**
 * The warning for a deployment that the agent's config source (config.yaml's
 * `agent.env.ConfigSource: local`, the file at `LocalConfigPath`) will replace.
 */
export function configSourceWarning(localConfigPath: string | undefined): string {
  return (
    `config.yaml sets agent.env.ConfigSource to local: the deployment in ${localConfigPath ?? 'LocalConfigPath'} ` +
    'will replace this one at the next SIGHUP or restart of iotedged'
  );
}
