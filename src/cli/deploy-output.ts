import type { DeploymentChanges } from '../runtime/agent/deployment-changes.js';

/** How many module names a summary lists for one kind of change before it counts the rest. */
const MAX_NAMES = 5;

function change(what: string, names: readonly string[]): string[] {
  if (names.length === 0) return [];
  const more = names.length > MAX_NAMES ? ` and ${names.length - MAX_NAMES} more` : '';
  return [`${what} ${names.length} (${names.slice(0, MAX_NAMES).join(', ')}${more})`];
}

/**
 * The one line `iotedge deploy` prints for a deployment the daemon accepted, e.g.
 * `Deployment accepted: added 1 (tempSensor), updated 1 (filter), 2 unchanged`. Without the
 * daemon's account of the changes, the number of modules it reports.
 */
export function deploymentSummary(
  changes: DeploymentChanges | undefined,
  reported: Record<string, unknown>,
): string {
  if (!changes) {
    const modules = reported.modules && typeof reported.modules === 'object' ? reported.modules : {};
    return `Deployment accepted: ${Object.keys(modules).length} module(s)\n`;
  }
  const parts = [
    ...change('added', changes.added),
    ...change('updated', changes.updated),
    ...change('removed', changes.removed),
    ...change('started', changes.started),
    ...change('stopped', changes.stopped),
    ...change('new desired properties for', changes.desiredProperties),
  ];
  if (parts.length === 0) parts.push('no changes');
  if (changes.unchanged > 0) parts.push(`${changes.unchanged} unchanged`);
  return `Deployment accepted: ${parts.join(', ')}\n`;
}

/** `lastDesiredStatus` of an answer that holds reported properties, else undefined. */
export function lastDesiredStatus(
  body: Record<string, unknown>,
): { code: number; description: string } | undefined {
  const status = body.lastDesiredStatus as { code?: unknown; description?: unknown } | undefined;
  if (!status || typeof status.code !== 'number') return undefined;
  return { code: status.code, description: typeof status.description === 'string' ? status.description : '' };
}

/** `Deployment failed (400): modules.ticker.restartPolicy: unknown value "sometimes", ...`. */
export function deploymentFailure(code: number, reason: string): string {
  return `Deployment failed (${code}): ${reason}`.trimEnd();
}

/**
 * Why the daemon refused a deployment: the description in the reported properties it answers with
 * (where the agent says which field is wrong), else the `message` and `code` of its error body,
 * else the HTTP status.
 */
export function refusalMessage(status: number, body: Record<string, unknown>, message: string): string {
  const desired = lastDesiredStatus(body);
  if (desired && desired.description !== '') return deploymentFailure(desired.code, desired.description);
  return deploymentFailure(typeof body.code === 'number' ? body.code : status, message);
}

/**
 * What `iotedge deploy --device` prints: IoT Hub takes a deployment for an edge device once its
 * shape is right, and the device's agent judges the rest (schema version, modules, routes) and
 * reports its verdict, which `--status --device` shows.
 */
export function deviceDeploymentSummary(deviceId: string, version: number): string {
  return (
    `Deployment set for ${deviceId} (desired $version ${version}); its agent reports the result: ` +
    `iotedge deploy --status --device ${deviceId}\n`
  );
}

/** The note under the `{}` of `deploy --status --device` when the child has reported nothing yet. */
export function notReportedNote(deviceId: string, twin: '$edgeAgent' | '$edgeHub'): string {
  const who = twin === '$edgeHub' ? 'hub' : 'agent';
  return `Note: ${deviceId}'s ${who} has reported nothing yet (it reports once it connects to this device and reads its deployment)\n`;
}
