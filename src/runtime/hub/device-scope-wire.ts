import { LeafDeviceInputError, storedLeafDevice, type LeafDevice } from './leaf-device-spec.js';

/**
 * The identities of a device scope as IoT Hub's device-scope API carries them (and as IoT Edge's
 * hub answers its children with the same shape): IoT Hub's device JSON, with each identity's
 * credentials, whether it is an edge device, its own scope (edge devices) and its parents' scopes.
 * Both directions: a parent writes its registered devices this way, a child reads them back. Pure.
 */

export interface ScopeDeviceJson {
  deviceId: string;
  generationId: string;
  status: 'enabled' | 'disabled';
  authentication: {
    type: 'sas' | 'selfSigned' | 'certificateAuthority' | 'none';
    symmetricKey: { primaryKey: string | null; secondaryKey: string | null };
    x509Thumbprint: { primaryThumbprint: string | null; secondaryThumbprint: string | null };
  };
  capabilities: { iotEdge: boolean };
  /** An edge device's own scope; a leaf device's is its parent's. */
  deviceScope: string;
  /** The scope of the edge device the identity sits below. */
  parentScopes: string[];
}

export interface ScopeResultJson {
  devices: ScopeDeviceJson[];
  /** This API's devices have no module identities of their own to pass on. */
  modules: never[];
  /** Present when there is a next page: send it back to get it. */
  continuationLink?: string;
}

/** A device scope's name: `ms-azure-iot-edge://{edge device id}-{generation id}`, as IoT Hub writes it. */
export function deviceScopeName(edgeDeviceId: string, generationId: string): string {
  return `ms-azure-iot-edge://${edgeDeviceId}-${generationId}`;
}

/** A registered device keeps no generation id; one read from its registration time stays the same until it is registered again. */
export function generationIdOf(device: LeafDevice): string {
  return String(Date.parse(device.createdTime));
}

/**
 * A device as the scope API writes it; `parentScope` is the scope of the edge device it sits below
 * (its `parentId`, or the answering device itself).
 */
export function scopeDeviceJson(device: LeafDevice, parentScope: string): ScopeDeviceJson {
  const generationId = generationIdOf(device);
  const auth = device.authentication;
  return {
    deviceId: device.deviceId,
    generationId,
    status: 'enabled',
    authentication:
      auth.type === 'sas'
        ? {
            type: 'sas',
            symmetricKey: { primaryKey: auth.primaryKey, secondaryKey: auth.secondaryKey },
            x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
          }
        : {
            type: 'selfSigned',
            symmetricKey: { primaryKey: null, secondaryKey: null },
            x509Thumbprint: {
              primaryThumbprint: auth.primaryThumbprint,
              secondaryThumbprint: auth.secondaryThumbprint ?? null,
            },
          },
    capabilities: { iotEdge: device.edge === true },
    deviceScope: device.edge ? deviceScopeName(device.deviceId, generationId) : parentScope,
    parentScopes: [parentScope],
  };
}

/** A scope API answer that is not one (the whole answer is unusable). */
export class ScopeResultError extends Error {}

export interface ParsedScopeResult {
  /** The usable identities, as this device registers leaf devices (`parentId` only below another edge device). */
  devices: LeafDevice[];
  /** Identities left out, with why (disabled, no credentials usable here); never a key. */
  skipped: string[];
  continuationLink?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** The registration entry a scope device stands for, or why it cannot be used here. */
function registrationOf(
  entry: Record<string, unknown>,
  parentId: string | undefined,
): Record<string, unknown> | string {
  if (entry.status !== undefined && String(entry.status).toLowerCase() !== 'enabled') return 'disabled';
  const auth = isObject(entry.authentication) ? entry.authentication : {};
  const type = String(auth.type ?? '').toLowerCase();
  const keys = isObject(auth.symmetricKey) ? auth.symmetricKey : {};
  const thumbprints = isObject(auth.x509Thumbprint) ? auth.x509Thumbprint : {};
  let authentication: Record<string, unknown>;
  if (type === 'sas') {
    authentication = {
      type: 'sas',
      primaryKey: text(keys.primaryKey),
      secondaryKey: text(keys.secondaryKey),
    };
    if (authentication.primaryKey === undefined) return 'no symmetric key';
    authentication.secondaryKey ??= authentication.primaryKey;
  } else if (type === 'selfsigned') {
    authentication = {
      type: 'x509',
      primaryThumbprint: text(thumbprints.primaryThumbprint),
      secondaryThumbprint: text(thumbprints.secondaryThumbprint),
    };
  } else {
    return `authentication type ${JSON.stringify(auth.type ?? null)} is not supported here`;
  }
  const capabilities = isObject(entry.capabilities) ? entry.capabilities : {};
  return {
    deviceId: entry.deviceId,
    authentication,
    ...(capabilities.iotEdge === true ? { edge: true } : {}),
    ...(parentId === undefined ? {} : { parentId }),
  };
}

/**
 * Reads one page of a scope API answer for the edge device `ownDeviceId`. A device's parent is
 * found by its parent scope among the edge devices of the answer; the device itself (the scope's
 * root) is left out, and the devices directly below it get no `parentId`.
 */
export function parseScopeResult(body: unknown, ownDeviceId: string, fetchedAt: Date): ParsedScopeResult {
  if (!isObject(body) || !Array.isArray(body.devices)) {
    throw new ScopeResultError('expected a JSON object {devices: [...], continuationLink?}');
  }
  const link = body.continuationLink ?? body.continuationToken;
  if (link !== undefined && link !== null && typeof link !== 'string') {
    throw new ScopeResultError('continuationLink: expected a string');
  }
  const entries = body.devices.filter(isObject);
  const edgeByScope = new Map<string, string>();
  for (const entry of entries) {
    const capabilities = isObject(entry.capabilities) ? entry.capabilities : {};
    if (capabilities.iotEdge === true && typeof entry.deviceScope === 'string')
      edgeByScope.set(entry.deviceScope, String(entry.deviceId));
  }
  const devices: LeafDevice[] = [];
  const skipped: string[] = [];
  for (const entry of entries) {
    if (entry.deviceId === ownDeviceId) continue;
    const name = JSON.stringify(entry.deviceId ?? null);
    const parentScope = Array.isArray(entry.parentScopes) ? entry.parentScopes[0] : undefined;
    const parent = typeof parentScope === 'string' ? edgeByScope.get(parentScope) : undefined;
    const registration = registrationOf(entry, parent === ownDeviceId ? undefined : parent);
    if (typeof registration === 'string') {
      skipped.push(`${name}: ${registration}`);
      continue;
    }
    try {
      devices.push(storedLeafDevice({ ...registration, createdTime: fetchedAt.toISOString() }, ownDeviceId));
    } catch (error) {
      if (!(error instanceof LeafDeviceInputError)) throw error;
      skipped.push(`${name}: ${error.message}`);
    }
  }
  return { devices, skipped, ...(typeof link === 'string' && link !== '' ? { continuationLink: link } : {}) };
}
