/**
 * Nested edge's "on behalf of" authentication, as IoT Edge's hub reads it: a child edge device's hub
 * connects to its parent as one of the identities below it (the target) with the MQTT username
 * parameter `auth-chain`, ids separated by `;`: the target first (`device` or `device/module`), the
 * edge devices between it and the parent after it, the acting edge device last. The actor proves
 * itself with the token of its own `$edgeHub` module identity. Pure: no I/O.
 */

/** The module identity of an edge device's hub, which acts on behalf of the identities below it. */
export const EDGE_HUB_MODULE_ID = '$edgeHub';

export interface OnBehalfClaim {
  /** `device` or `device/module`: who the connection will be. */
  targetId: string;
  targetDeviceId: string;
  /** The edge device whose `$edgeHub` acts. */
  actorDeviceId: string;
  /** The whole chain, target first. */
  chain: string[];
}

export type AuthChainParse = { ok: true; claim: OnBehalfClaim } | { ok: false; reason: string };

/** Longest chain accepted: a target and the edge layers above it (IoT Edge nests a few layers). */
const MAX_CHAIN_IDS = 8;

/**
 * Reads an `auth-chain` for a connection whose client id names `clientIdentityId`: at least a
 * target and an actor, the target being the client id, the actor a device (no module).
 */
export function parseAuthChain(text: string, clientIdentityId: string): AuthChainParse {
  const chain = text.split(';').filter((id) => id !== '');
  if (chain.length < 2) {
    return { ok: false, reason: 'auth-chain must name a target and the acting edge device' };
  }
  if (chain.length > MAX_CHAIN_IDS) {
    return { ok: false, reason: `auth-chain names more than ${MAX_CHAIN_IDS} identities` };
  }
  if (chain[0] !== clientIdentityId) {
    return { ok: false, reason: `auth-chain starts with ${JSON.stringify(chain[0])}, not the client id` };
  }
  const actorDeviceId = chain[chain.length - 1];
  if (actorDeviceId.includes('/')) {
    return { ok: false, reason: 'the last id of an auth-chain must be an edge device, not a module' };
  }
  return {
    ok: true,
    claim: { targetId: chain[0], targetDeviceId: chain[0].split('/')[0], actorDeviceId, chain },
  };
}

/** What the scope decision needs to know of the devices registered with this (parent) device. */
export interface ScopeDevices {
  /** The device's parent edge device, when it is registered here with one. */
  parentOf(deviceId: string): string | undefined;
  /** Whether the device is registered here as an edge device (one that may act for others). */
  isEdge(deviceId: string): boolean;
}

/**
 * Whether the actor's scope holds the target device: the actor itself (its modules included) or a
 * device registered with the actor as its parent, directly or through other edge devices below it.
 * The actor must be an edge device registered here.
 */
export function scopeProblem(claim: OnBehalfClaim, devices: ScopeDevices): string | undefined {
  const { actorDeviceId, targetDeviceId } = claim;
  if (!devices.isEdge(actorDeviceId)) return `${actorDeviceId} is not an edge device registered here`;
  if (inScopeOf(actorDeviceId, targetDeviceId, devices)) return undefined;
  return `${claim.targetId} is not in the scope of ${actorDeviceId}`;
}

/**
 * Whether `deviceId` is the edge device `edgeDeviceId` itself or lies below it: registered with it
 * as parent, directly or through other edge devices (at most as deep as an auth-chain reaches).
 */
export function inScopeOf(edgeDeviceId: string, deviceId: string, devices: ScopeDevices): boolean {
  let device: string | undefined = deviceId;
  for (let depth = 0; device !== undefined && depth <= MAX_CHAIN_IDS; depth += 1) {
    if (device === edgeDeviceId) return true;
    device = devices.parentOf(device);
  }
  return false;
}

/** A connection as admitted: who it is and, when a child edge device acts for it, the auth-chain. */
export interface AdmittedConnection {
  /** `device` or `device/module`. */
  id: string;
  deviceId: string;
  /** The auth-chain it was admitted with (target first, acting edge device last); none when direct. */
  authChain?: readonly string[];
}

/**
 * Why a connection admitted earlier would be refused now that the registrations changed (a device
 * was removed), or undefined when it would still be admitted; the rule of admission, read again.
 * A direct connection of another device (or of one of its modules) needs that device registered
 * here; a connection on behalf of an identity needs its actor still an edge device registered here
 * and the target still in that actor's scope, so removing a device ends the connections a child
 * edge device keeps for it, and removing a child edge device ends those it keeps for its modules
 * and for every device below it.
 */
export function admissionLost(
  connection: AdmittedConnection,
  ownDeviceId: string,
  devices: ScopeDevices & { isRegistered(deviceId: string): boolean },
): string | undefined {
  const chain = connection.authChain;
  if (chain === undefined || chain.length < 2) {
    if (connection.deviceId === ownDeviceId || devices.isRegistered(connection.deviceId)) return undefined;
    return `${connection.deviceId} is no longer registered here`;
  }
  const claim: OnBehalfClaim = {
    targetId: connection.id,
    targetDeviceId: connection.deviceId,
    actorDeviceId: chain[chain.length - 1]!,
    chain: [...chain],
  };
  return scopeProblem(claim, devices);
}
