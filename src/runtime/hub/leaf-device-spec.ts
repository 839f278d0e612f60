import { randomBytes } from 'node:crypto';

/**
 * Leaf (downstream) devices as the gateway registers them, and the rules of IoT Hub's identity
 * registry for what a new one may be: its id, symmetric keys, X.509 thumbprints. Pure: no I/O.
 */

export interface SasAuthentication {
  type: 'sas';
  /** Base64; secret. */
  primaryKey: string;
  secondaryKey: string;
}

export interface X509Authentication {
  type: 'x509';
  /** Uppercase hex without separators (SHA-256 or SHA-1 of the DER certificate). */
  primaryThumbprint: string;
  secondaryThumbprint?: string;
}

export interface LeafDevice {
  deviceId: string;
  authentication: SasAuthentication | X509Authentication;
  /** RFC 3339. */
  createdTime: string;
  /** An edge device (a child in a nested edge): its `$edgeHub` may act on behalf of its scope. */
  edge?: true;
  /** The edge device this device sits below, when that is not this gateway but a child of it. */
  parentId?: string;
}

/** A request to register a device that breaks a rule; `field` names the offending JSON field. */
export class LeafDeviceInputError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** IoT Hub's device id rules: up to 128 ASCII letters, digits and `- : . + % _ # * ? ! ( ) , = @ ; $ '`. */
const DEVICE_ID = /^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/;
/** Allowed by IoT Hub, but no leaf device could use them through this gateway. */
const UNUSABLE_HERE: [RegExp, string][] = [
  [/[+#]/, 'MQTT forbids + and # in the topic names a device publishes to'],
  [/;/, 'a connection string cannot carry ; in a device id'],
];
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^[0-9A-F]+$/;
/** IoT Hub takes symmetric keys of 16 to 64 bytes; it generates 32. */
const MIN_KEY_BYTES = 16;
const MAX_KEY_BYTES = 64;
const GENERATED_KEY_BYTES = 32;

/** Why `id` cannot name a leaf device of the edge device `edgeDeviceId`; undefined when it can. */
export function deviceIdProblem(id: unknown, edgeDeviceId: string): string | undefined {
  if (typeof id !== 'string' || id === '') return 'expected a device id';
  if (id.length > 128) return 'a device id has at most 128 characters';
  if (!DEVICE_ID.test(id)) {
    return "a device id may only hold ASCII letters, digits and - : . % _ * ? ! ( ) , = @ $ '";
  }
  for (const [pattern, why] of UNUSABLE_HERE) {
    if (pattern.test(id)) return `${JSON.stringify(id)} cannot be used through this gateway: ${why}`;
  }
  if (id === edgeDeviceId) return `${id} is this edge device's own id`;
  return undefined;
}

export function generateKey(): string {
  return randomBytes(GENERATED_KEY_BYTES).toString('base64');
}

/** A symmetric key as given, or a generated one; the message never quotes the value. */
function symmetricKey(value: unknown, field: string): string {
  if (value === undefined) return generateKey();
  if (typeof value !== 'string' || value === '' || !BASE64.test(value)) {
    throw new LeafDeviceInputError(field, 'expected a base64 key');
  }
  const bytes = Buffer.from(value, 'base64').length;
  if (bytes < MIN_KEY_BYTES || bytes > MAX_KEY_BYTES) {
    throw new LeafDeviceInputError(
      field,
      `a key holds ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes, this one ${bytes}`,
    );
  }
  return value;
}

/** A SHA-256 (64 hex digits) or SHA-1 (40) thumbprint, any case, colons allowed; uppercase without them. */
export function normalizeThumbprint(value: unknown, field: string): string {
  const hex = typeof value === 'string' ? value.replace(/:/g, '').toUpperCase() : '';
  if (!HEX.test(hex) || (hex.length !== 64 && hex.length !== 40)) {
    throw new LeafDeviceInputError(field, 'expected a SHA-256 (64 hex digits) or SHA-1 (40) thumbprint');
  }
  return hex;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function authentication(value: unknown): SasAuthentication | X509Authentication {
  if (value === undefined) return { type: 'sas', primaryKey: generateKey(), secondaryKey: generateKey() };
  if (!isObject(value)) throw new LeafDeviceInputError('authentication', 'expected an object');
  const type = typeof value.type === 'string' ? value.type.toLowerCase() : value.type;
  if (type === 'sas') {
    return {
      type: 'sas',
      primaryKey: symmetricKey(value.primaryKey, 'authentication.primaryKey'),
      secondaryKey: symmetricKey(value.secondaryKey, 'authentication.secondaryKey'),
    };
  }
  if (type === 'x509') {
    const primaryThumbprint = normalizeThumbprint(
      value.primaryThumbprint,
      'authentication.primaryThumbprint',
    );
    const secondary = value.secondaryThumbprint;
    return {
      type: 'x509',
      primaryThumbprint,
      ...(secondary === undefined || secondary === null || secondary === ''
        ? {}
        : { secondaryThumbprint: normalizeThumbprint(secondary, 'authentication.secondaryThumbprint') }),
    };
  }
  throw new LeafDeviceInputError('authentication.type', "expected 'sas' or 'x509'");
}

/**
 * A new device from the body of POST /devices: `{deviceId, authentication?: {type: 'sas',
 * primaryKey?, secondaryKey?} | {type: 'x509', primaryThumbprint, secondaryThumbprint?}}`.
 * Missing keys are generated; no authentication means SAS with generated keys.
 */
export function parseNewLeafDevice(body: unknown, edgeDeviceId: string, now: Date): LeafDevice {
  if (!isObject(body))
    throw new LeafDeviceInputError('body', 'expected a JSON object {deviceId, authentication}');
  const problem = deviceIdProblem(body.deviceId, edgeDeviceId);
  if (problem !== undefined) throw new LeafDeviceInputError('deviceId', problem);
  if (body.edge !== undefined && typeof body.edge !== 'boolean') {
    throw new LeafDeviceInputError('edge', 'expected true or false');
  }
  const device: LeafDevice = {
    deviceId: body.deviceId as string,
    authentication: authentication(body.authentication),
    createdTime: now.toISOString(),
  };
  if (body.edge === true) {
    if (device.authentication.type !== 'sas') {
      throw new LeafDeviceInputError(
        'authentication.type',
        'an edge device authenticates with SAS keys here',
      );
    }
    device.edge = true;
  }
  const parentId = body.parentId;
  if (parentId !== undefined && parentId !== null && parentId !== edgeDeviceId) {
    const parentProblem = deviceIdProblem(parentId, edgeDeviceId);
    if (parentProblem !== undefined) throw new LeafDeviceInputError('parentId', parentProblem);
    if (parentId === device.deviceId)
      throw new LeafDeviceInputError('parentId', 'a device cannot be its own parent');
    device.parentId = parentId as string;
  }
  return device;
}

/** A device read back from the registry file; throws LeafDeviceInputError when the entry is not one. */
export function storedLeafDevice(entry: unknown, edgeDeviceId: string): LeafDevice {
  if (!isObject(entry)) throw new LeafDeviceInputError('entry', 'expected an object');
  const created = entry.createdTime;
  if (typeof created !== 'string' || Number.isNaN(Date.parse(created))) {
    throw new LeafDeviceInputError('createdTime', 'expected an RFC 3339 time');
  }
  const auth = entry.authentication;
  // a stored SAS entry holds both keys (they are generated only when a device is added)
  if (!isObject(auth)) throw new LeafDeviceInputError('authentication', 'expected an object');
  const sas = typeof auth.type === 'string' && auth.type.toLowerCase() === 'sas';
  for (const field of ['primaryKey', 'secondaryKey'] as const) {
    if (sas && auth[field] === undefined)
      throw new LeafDeviceInputError(`authentication.${field}`, 'missing');
  }
  return { ...parseNewLeafDevice(entry, edgeDeviceId, new Date(0)), createdTime: created };
}
