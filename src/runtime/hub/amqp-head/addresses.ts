import type { ClientIdentity } from '../connections.js';

/** What a link address names, as IoT Hub's AMQP addresses do (a leading `/` is optional). */
export type LinkTarget =
  | { kind: 'cbs' }
  | { kind: 'events' | 'devicebound' | 'methods' | 'twin'; deviceId: string; moduleId?: string };

/** The identity id (`device` or `device/module`) a device or module address names. */
export const targetIdentityId = (target: { deviceId: string; moduleId?: string }): string =>
  target.moduleId === undefined ? target.deviceId : `${target.deviceId}/${target.moduleId}`;

const SUFFIXES: Record<string, Exclude<LinkTarget['kind'], 'cbs'>> = {
  'messages/events': 'events',
  'messages/devicebound': 'devicebound',
  'methods/devicebound': 'methods',
  twin: 'twin',
};

/**
 * Parses a link's address: `$cbs`, or `/devices/{id}[/modules/{mid}]/` followed by
 * `messages/events`, `messages/devicebound`, `methods/devicebound` or `twin` (a query string, such
 * as `?api-version=...`, is ignored). Undefined for anything else.
 */
export function parseLinkAddress(address: unknown): LinkTarget | undefined {
  if (typeof address !== 'string') return undefined;
  const path = address.split('?', 1)[0]!.replace(/^amqps?:\/\/[^/]*/, '');
  if (path === '$cbs') return { kind: 'cbs' };
  const segments = path.replace(/^\//, '').split('/');
  if (segments[0] !== 'devices' || !segments[1]) return undefined;
  const deviceId = decodeURIComponent(segments[1]);
  let rest = segments.slice(2);
  let moduleId: string | undefined;
  if (rest[0] === 'modules') {
    if (!rest[1]) return undefined;
    moduleId = decodeURIComponent(rest[1]);
    rest = rest.slice(2);
  }
  const kind = SUFFIXES[rest.join('/')];
  if (kind === undefined) return undefined;
  // a device's own `messages/events` is telemetry; a module's is also where it receives its inputs
  return moduleId === undefined ? { kind, deviceId } : { kind, deviceId, moduleId };
}

/** Whether `identity` may use a link to `target` (its own addresses only). */
export function ownsTarget(
  identity: ClientIdentity,
  target: { deviceId: string; moduleId?: string },
): boolean {
  return identity.deviceId === target.deviceId && identity.moduleId === target.moduleId;
}
