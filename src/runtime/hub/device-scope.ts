import { inScopeOf, type ScopeDevices } from './auth-chain.js';
import {
  deviceScopeName,
  generationIdOf,
  scopeDeviceJson,
  type ScopeResultJson,
} from './device-scope-wire.js';
import type { LeafDevice } from './leaf-device-spec.js';

/**
 * A parent's answer to a child edge device asking for the identities in a device scope, as IoT
 * Edge's hub serves its children: the target edge device itself and every device registered below
 * it (directly or through other edge devices), in pages ordered by device id. Pure: no I/O.
 */

export interface ScopeRequest {
  /** The edge device whose scope is asked for: the first id of the request's `authChain`. */
  targetDeviceId: string;
  pageSize: number;
  /** From the previous page's answer. */
  continuationLink?: string;
}

/** Pages hold 100 devices unless the caller asks for another size (1 to 1000, as IoT Hub allows). */
export const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

/** A request body that is not one; the message names the field. */
export class ScopeRequestError extends Error {}

/** Reads `{authChain, pageSize?, continuationLink?}`. */
export function parseScopeRequest(body: unknown): ScopeRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ScopeRequestError('expected a JSON object {authChain, pageSize, continuationLink}');
  }
  const { authChain, pageSize, continuationLink } = body as Record<string, unknown>;
  if (typeof authChain !== 'string' || authChain.split(';')[0] === '') {
    throw new ScopeRequestError('authChain: expected the target edge device first, e.g. "child-1"');
  }
  const targetDeviceId = authChain.split(';')[0]!.split('/')[0]!;
  let size = DEFAULT_PAGE_SIZE;
  if (pageSize !== undefined && pageSize !== null && pageSize !== 0) {
    if (
      typeof pageSize !== 'number' ||
      !Number.isInteger(pageSize) ||
      pageSize < 1 ||
      pageSize > MAX_PAGE_SIZE
    )
      throw new ScopeRequestError(`pageSize: expected a whole number from 1 to ${MAX_PAGE_SIZE}`);
    size = pageSize;
  }
  if (continuationLink !== undefined && continuationLink !== null && typeof continuationLink !== 'string') {
    throw new ScopeRequestError('continuationLink: expected the string of the previous answer');
  }
  return {
    targetDeviceId,
    pageSize: size,
    ...(continuationLink ? { continuationLink } : {}),
  };
}

const byId = (a: LeafDevice, b: LeafDevice) =>
  a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0;

/**
 * One page of the scope of `targetDeviceId` among the devices registered on `ownDeviceId` (the
 * answering device); the continuation link is the last id of the page, the next page starts after
 * it (so a device removed meanwhile shifts nothing).
 */
export function scopePage(
  request: ScopeRequest,
  ownDeviceId: string,
  devices: LeafDevice[],
  lookup: ScopeDevices,
): ScopeResultJson {
  const inScope = devices
    .filter((device) => inScopeOf(request.targetDeviceId, device.deviceId, lookup))
    .sort(byId);
  const after = request.continuationLink;
  const rest = after === undefined ? inScope : inScope.filter((device) => device.deviceId > after);
  const page = rest.slice(0, request.pageSize);
  const byDeviceId = new Map(inScope.map((device) => [device.deviceId, device]));
  const scopeOf = (deviceId: string | undefined): string => {
    const parent = deviceId === undefined ? undefined : byDeviceId.get(deviceId);
    // this device keeps no generation id of its own: its scope name carries 0
    return parent
      ? deviceScopeName(parent.deviceId, generationIdOf(parent))
      : deviceScopeName(ownDeviceId, '0');
  };
  return {
    devices: page.map((device) => scopeDeviceJson(device, scopeOf(device.parentId))),
    modules: [],
    ...(rest.length > page.length ? { continuationLink: page[page.length - 1]!.deviceId } : {}),
  };
}
