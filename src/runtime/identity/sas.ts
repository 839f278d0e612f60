import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Shared access signature tokens as IoT Hub and edgeHub use them:
 * `SharedAccessSignature sr={url-encoded audience}&sig={url-encoded base64 HMAC}&se={expiry}[&skn=…]`,
 * the HMAC-SHA256 taken over the `sr` text exactly as sent, a newline, and `se`.
 */

const PREFIX = 'SharedAccessSignature ';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HMAC_SHA256_BYTES = 32;

export interface SasTokenOptions {
  /** `{host}/devices/{deviceId}` or `{host}/devices/{deviceId}/modules/{moduleId}`, not yet encoded. */
  audience: string;
  /** The base64 symmetric key. */
  key: string;
  /** Unix time in seconds after which the token is no longer accepted. */
  expiry: number;
  /** Policy name; device and module keys have none. */
  keyName?: string;
}

export type SasTokenErrorCode = 'empty' | 'prefix' | 'field' | 'missing-field' | 'duplicate-field' | 'value';

/** Why a SAS token could not be parsed. The message names fields, never their secret values. */
export class SasTokenError extends Error {
  constructor(
    readonly code: SasTokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SasTokenError';
  }
}

/** A parsed token. `signature` is secret: never log it. */
export interface SasToken {
  /** The `sr` field as sent (still URL-encoded); this is what was signed. */
  encodedAudience: string;
  /** The URL-decoded audience. */
  audience: string;
  /** The URL-decoded base64 signature. */
  signature: string;
  /** The `se` field as sent; signed as text. */
  expiryText: string;
  /** Unix time in seconds. */
  expiry: number;
  keyName?: string;
}

/** An identity a token may be for. Device and module ids are compared case-sensitively. */
export interface SasIdentity {
  deviceId: string;
  moduleId?: string;
}

export interface SasVerifyOptions {
  /** The identity the client claims (from its MQTT client id or CBS audience). */
  identity: SasIdentity;
  /** Candidate base64 keys, e.g. primary then secondary; a module may also present its device's keys. */
  keys: readonly string[];
  /** Host names the audience may name: the IoT Hub hostname and the edge device hostname. */
  hostnames: readonly string[];
  now: Date;
  /** Grace after `se`; 0 unless the caller tolerates clock skew. */
  clockSkewSeconds?: number;
}

export type SasFailureCode = 'malformed' | 'signature' | 'expired' | 'audience';

/** `reason` never contains the token's signature or a key, so it is safe to log. */
export type SasVerification =
  { ok: true; keyIndex: number } | { ok: false; code: SasFailureCode; reason: string };

export function buildSasToken(options: SasTokenOptions): string {
  const sr = encodeURIComponent(options.audience);
  const se = String(Math.trunc(options.expiry));
  const sig = encodeURIComponent(sign(decodeKey(options.key, 'SAS key'), sr, se).toString('base64'));
  const skn = options.keyName === undefined ? '' : `&skn=${encodeURIComponent(options.keyName)}`;
  return `${PREFIX}sr=${sr}&sig=${sig}&se=${se}${skn}`;
}

export function parseSasToken(text: string): SasToken {
  if (typeof text !== 'string' || text.trim() === '') throw new SasTokenError('empty', 'SAS token is empty');
  if (!text.startsWith(PREFIX)) {
    throw new SasTokenError('prefix', "SAS token does not start with 'SharedAccessSignature '");
  }
  const fields = new Map<string, string>();
  const parts = text.slice(PREFIX.length).split('&');
  parts.forEach((part, index) => {
    const equals = part.indexOf('=');
    if (equals <= 0) {
      throw new SasTokenError('field', `SAS token field ${index + 1} is not of the form name=value`);
    }
    // Field names are case-insensitive in IoT Hub's parser; unknown fields are ignored.
    const name = part.slice(0, equals).toLowerCase();
    if (fields.has(name))
      throw new SasTokenError('duplicate-field', `SAS token has more than one '${name}' field`);
    fields.set(name, part.slice(equals + 1));
  });
  const required = (name: string): string => {
    const value = fields.get(name);
    if (value === undefined || value === '') {
      throw new SasTokenError('missing-field', `SAS token has no '${name}' field`);
    }
    return value;
  };
  const encodedAudience = required('sr');
  const encodedSignature = required('sig');
  const expiryText = required('se');
  if (!/^\d{1,15}$/.test(expiryText)) {
    throw new SasTokenError('value', "SAS token field 'se' is not a Unix time in seconds");
  }
  const audience = urlDecode(encodedAudience, 'sr');
  const signature = urlDecode(encodedSignature, 'sig');
  if (!BASE64.test(signature)) throw new SasTokenError('value', "SAS token field 'sig' is not base64");
  const keyName = fields.get('skn');
  return {
    encodedAudience,
    audience,
    signature,
    expiryText,
    expiry: Number(expiryText),
    ...(keyName === undefined ? {} : { keyName: urlDecode(keyName, 'skn') }),
  };
}

/**
 * Checks signature, expiry and audience, in that order, like edgeHub's scope authenticator. Throws
 * only for a caller's mistake: a key in `keys` that is not base64.
 */
export function verifySasToken(token: string | SasToken, options: SasVerifyOptions): SasVerification {
  let parsed: SasToken;
  try {
    parsed = typeof token === 'string' ? parseSasToken(token) : token;
  } catch (error) {
    if (error instanceof SasTokenError) return { ok: false, code: 'malformed', reason: error.message };
    throw error;
  }
  const keyIndex = matchingKey(parsed, options.keys);
  if (keyIndex < 0) {
    return {
      ok: false,
      code: 'signature',
      reason: 'SAS token signature does not match any key of the identity',
    };
  }
  const nowSeconds = Math.floor(options.now.getTime() / 1000);
  if (parsed.expiry + (options.clockSkewSeconds ?? 0) <= nowSeconds) {
    const at = new Date(parsed.expiry * 1000).toISOString();
    return { ok: false, code: 'expired', reason: `SAS token expired at ${at}` };
  }
  const audienceProblem = checkAudience(parsed.audience, options.identity, options.hostnames);
  if (audienceProblem !== undefined) return { ok: false, code: 'audience', reason: audienceProblem };
  return { ok: true, keyIndex };
}

function matchingKey(token: SasToken, keys: readonly string[]): number {
  const presented = Buffer.from(token.signature, 'base64');
  // Every key is tried, so the time taken does not tell which one matched.
  let found = -1;
  keys.forEach((key, index) => {
    const expected = sign(decodeKey(key, `SAS key ${index + 1}`), token.encodedAudience, token.expiryText);
    const equal = presented.length === HMAC_SHA256_BYTES && timingSafeEqual(presented, expected);
    if (equal && found < 0) found = index;
  });
  return found;
}

/**
 * The audience is `{host}/devices/{d}` or `{host}/devices/{d}/modules/{m}`. Some SDKs encode the ids
 * before encoding the whole `sr` and some do not, so an id segment matches as sent or decoded once more.
 * A device-level audience is accepted for a module of that device, as edgeHub does (modules may sign
 * with their device's key).
 */
function checkAudience(
  audience: string,
  identity: SasIdentity,
  hostnames: readonly string[],
): string | undefined {
  const parts = audience.trim().split('/');
  const shapeOk =
    (parts.length === 3 || parts.length === 5) &&
    parts[1].toLowerCase() === 'devices' &&
    (parts.length === 3 || parts[3].toLowerCase() === 'modules');
  if (!shapeOk) return 'SAS token audience is not {host}/devices/{deviceId}[/modules/{moduleId}]';
  const host = parts[0].toLowerCase();
  if (host === '' || !hostnames.some((name) => name.toLowerCase() === host)) {
    return `SAS token audience host ${quoted(parts[0])} is neither the IoT Hub nor the edge device hostname`;
  }
  if (!segmentNames(parts[2], identity.deviceId)) {
    return `SAS token is for device ${quoted(parts[2])}, not ${quoted(identity.deviceId)}`;
  }
  if (parts.length === 5 && (identity.moduleId === undefined || !segmentNames(parts[4], identity.moduleId))) {
    const claimed =
      identity.moduleId === undefined ? 'the device itself' : `module ${quoted(identity.moduleId)}`;
    return `SAS token is for module ${quoted(parts[4])}, not ${claimed}`;
  }
  return undefined;
}

/** `text` in single quotes with control characters escaped as JSON escapes them: reasons are logged. */
function quoted(text: string): string {
  return `'${JSON.stringify(text).slice(1, -1)}'`;
}

function segmentNames(segment: string, id: string): boolean {
  if (segment === id) return true;
  try {
    return decodeURIComponent(segment) === id;
  } catch {
    return false;
  }
}

function sign(key: Buffer, encodedAudience: string, expiryText: string): Buffer {
  return createHmac('sha256', key).update(`${encodedAudience}\n${expiryText}`).digest();
}

/**
 * A base64 symmetric key. Unpadded base64 is accepted (connection strings drop the padding); the
 * message names `what`, never the value.
 */
export function decodeKey(key: string, what: string): Buffer {
  if (typeof key !== 'string' || key === '' || !BASE64.test(key))
    throw new TypeError(`${what} is not base64`);
  return Buffer.from(key, 'base64');
}

function urlDecode(value: string, field: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new SasTokenError('value', `SAS token field '${field}' is not URL-encoded correctly`);
  }
}
