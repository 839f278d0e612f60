/**
 * Who an MQTT CONNECT claims to be, from its client id and username, the way edgeHub reads them:
 * username `{host}/{deviceId}[/{moduleId}]/?{params}` (or without the `?` when the last segment
 * contains `api-version=`), client id exactly `{deviceId}` or `{deviceId}/{moduleId}`.
 * The host segment is not checked; authentication (the password) is someone else's job. Device
 * and module ids must be IoT Hub ids (ASCII letters, digits and `- : . + % _ # * ? ! ( ) , = @ ; $ '`),
 * and messages quote what the client sent as JSON strings: both are logged, and a client must
 * not be able to write lines of its own into the daemon's log.
 */
import { percentDecode } from './property-bag.js';

export interface ConnectIdentity {
  deviceId: string;
  moduleId?: string;
  apiVersion: string;
  /** `DeviceClientType`: the SDK's user agent and product info. */
  productInfo?: string;
  /** `model-id` (IoT Plug and Play). */
  modelId?: string;
  /** `auth-chain` (nested edge: the devices the request went through). */
  authChain?: string;
}

export type ConnectRefusal =
  | 'missing-username'
  | 'malformed-username'
  | 'missing-api-version'
  | 'missing-device-id'
  | 'client-id-mismatch';

export type ConnectIdentityResult =
  { ok: true; identity: ConnectIdentity } | { ok: false; reason: ConnectRefusal; message: string };

const refuse = (reason: ConnectRefusal, message: string): ConnectIdentityResult => ({
  ok: false,
  reason,
  message,
});

/** `a=1&b=2` into a map; keys as written, values URL-decoded, the first of a repeated key wins. */
function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of text.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (params.has(key)) continue;
    params.set(key, eq === -1 ? '' : percentDecode(pair.slice(eq + 1)));
  }
  return params;
}

const present = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/** IoT Hub's alphabet of device and module ids, up to 128 characters. */
const IOT_HUB_ID = /^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/;

const quoted = (text: string) => JSON.stringify(text);

export function parseConnectIdentity(clientId: string, username: string | undefined): ConnectIdentityResult {
  if (username === undefined || username.trim() === '') {
    return refuse('missing-username', 'the CONNECT has no username');
  }
  const segments = username.split('/');
  const last = segments[segments.length - 1];
  let params: string;
  if (last.startsWith('?')) params = last.slice(1);
  else if (last.includes('api-version=')) params = last;
  else return refuse('malformed-username', `username ${quoted(username)} does not contain valid values`);
  if (segments.length !== 3 && segments.length !== 4) {
    return refuse('malformed-username', `username ${quoted(username)} does not contain valid values`);
  }

  const query = parseParams(params.trim());
  const apiVersion = query.get('api-version');
  if (!present(apiVersion)) {
    return refuse('missing-api-version', `username ${quoted(username)} does not contain a valid api-version`);
  }
  const deviceId = segments[1].trim();
  if (deviceId === '')
    return refuse('missing-device-id', `username ${quoted(username)} does not contain a device id`);
  const moduleId = segments.length === 4 && segments[2].trim() !== '' ? segments[2].trim() : undefined;
  for (const id of moduleId === undefined ? [deviceId] : [deviceId, moduleId]) {
    if (!IOT_HUB_ID.test(id)) {
      return refuse(
        'malformed-username',
        `username ${quoted(username)} names ${quoted(id)}, which is not an IoT Hub id`,
      );
    }
  }

  const expected = moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
  if (clientId !== expected) {
    return refuse(
      'client-id-mismatch',
      `client id ${quoted(clientId)} does not match the username's identity ${expected}`,
    );
  }

  const identity: ConnectIdentity = { deviceId, apiVersion };
  if (moduleId !== undefined) identity.moduleId = moduleId;
  const productInfo = query.get('DeviceClientType');
  if (present(productInfo)) identity.productInfo = productInfo;
  const modelId = query.get('model-id');
  if (present(modelId)) identity.modelId = modelId;
  const authChain = query.get('auth-chain');
  if (present(authChain)) identity.authChain = authChain;
  return { ok: true, identity };
}
