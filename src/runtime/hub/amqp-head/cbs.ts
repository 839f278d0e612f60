/** IoT Hub's claims-based security (`$cbs` node): what a put-token request asks for. */
import { parseSasToken } from '../../identity/sas.js';
import { EDGE_HUB_MODULE_ID } from '../auth-chain.js';

/** The token type this hub's upstream link puts (the Node SDK's too). */
export const SAS_TOKEN_TYPE = 'servicebus.windows.net:sastoken';

/**
 * The token types a put-token may name, compared without regard to case as IoT Edge's hub does:
 * Service Bus's, and IoT Hub's own, which the C# SDK (and so IoT Edge's hub) puts.
 */
const SAS_TOKEN_TYPES = [SAS_TOKEN_TYPE, 'azure-devices.net:sastoken'];

/**
 * The application property of a put-token that makes it one "on behalf of" (nested edge): the
 * auth-chain, target first and the acting child edge device last, whose `$edgeHub` token the body is.
 * IoT Edge's hub puts no such property: it carries the chain on each link's attach instead
 * (`com.microsoft:auth-chain`), and its token names the acting `$edgeHub` in its own audience.
 */
export const AUTH_CHAIN_PROPERTY = 'auth-chain';

export type PutToken =
  | { ok: true; deviceId: string; moduleId?: string; token: string; authChain?: string }
  | { ok: false; status: number; reason: string };

/**
 * The identity a put-token audience names: `{host}/devices/{id}` or `{host}/devices/{id}/modules/{mid}`
 * (percent-encoded or not, with or without a scheme).
 */
export function audienceIdentity(audience: string): { deviceId: string; moduleId?: string } | undefined {
  let text: string;
  try {
    text = decodeURIComponent(audience);
  } catch {
    return undefined;
  }
  const path = text.replace(/^[a-z]+:\/\//i, '');
  const match = /^[^/]+\/devices\/([^/]+)(?:\/modules\/([^/]+))?\/?$/.exec(path);
  if (!match) return undefined;
  return match[2] === undefined ? { deviceId: match[1]! } : { deviceId: match[1]!, moduleId: match[2] };
}

/**
 * Reads a message sent to `$cbs`: application properties `operation` = `put-token`, `type` =
 * a SAS token type, `name` = the audience, optionally `auth-chain` (else the one the token
 * implies); the token is the body (a string, or bytes).
 */
export function parsePutToken(properties: Record<string, unknown> | undefined, body: unknown): PutToken {
  const operation = properties?.operation;
  if (operation !== 'put-token')
    return { ok: false, status: 400, reason: `unsupported $cbs operation ${JSON.stringify(operation)}` };
  const type = properties?.type;
  if (typeof type !== 'string' || !SAS_TOKEN_TYPES.includes(type.toLowerCase()))
    return { ok: false, status: 400, reason: `unsupported token type ${JSON.stringify(properties?.type)}` };
  const name = properties?.name;
  const identity = typeof name === 'string' ? audienceIdentity(name) : undefined;
  if (!identity)
    return { ok: false, status: 400, reason: `audience ${JSON.stringify(name)} names no device or module` };
  const token = bodyText(body);
  if (token === undefined || token === '')
    return { ok: false, status: 400, reason: 'the put-token carries no token' };
  const authChain = properties?.[AUTH_CHAIN_PROPERTY];
  if (authChain !== undefined && typeof authChain !== 'string')
    return { ok: false, status: 400, reason: `${AUTH_CHAIN_PROPERTY} must be a string` };
  const chain = authChain ?? impliedAuthChain(identity, token);
  return { ok: true, ...identity, token, ...(chain === undefined ? {} : { authChain: chain }) };
}

/**
 * The auth-chain a put-token without one implies, as IoT Edge's child hub puts it: named for the
 * identity it acts for, its token that of another identity, the acting edge device's `$edgeHub`
 * (the token's own audience names it). The chain is then `{named identity};{acting edge device}`;
 * whether that edge device may act for it is decided as for an explicit chain. None when the
 * token is the named identity's own, or names no `$edgeHub` (it is then checked as a direct token).
 */
export function impliedAuthChain(
  named: { deviceId: string; moduleId?: string },
  token: string,
): string | undefined {
  let audience: string;
  try {
    audience = parseSasToken(token).audience;
  } catch {
    return undefined;
  }
  const signer = audienceIdentity(audience);
  if (signer?.moduleId !== EDGE_HUB_MODULE_ID) return undefined;
  if (signer.deviceId === named.deviceId && named.moduleId === EDGE_HUB_MODULE_ID) return undefined;
  const namedId = named.moduleId === undefined ? named.deviceId : `${named.deviceId}/${named.moduleId}`;
  return `${namedId};${signer.deviceId}`;
}

/** The text of an AMQP body: an AMQP string, or a data section's bytes. */
export function bodyText(body: unknown): string | undefined {
  const bytes = bodyBytes(body);
  if (bytes !== undefined) return bytes.toString('utf8');
  return typeof body === 'string' ? body : undefined;
}

/** The bytes of an AMQP body: a data section (or binary value) as is, a string as UTF-8. */
export function bodyBytes(body: unknown): Buffer | undefined {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  const content = (body as { content?: unknown } | null | undefined)?.content;
  if (Buffer.isBuffer(content)) return content;
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (body === undefined || body === null) return Buffer.alloc(0);
  return undefined;
}

/**
 * The identity SASL PLAIN's username names: `{id}@sas.{hub}` for a device,
 * `{id}/modules/{mid}@sas.{hub}` (or `{id}/{mid}@sas.{hub}`) for a module.
 */
export function plainUsernameIdentity(username: string): { deviceId: string; moduleId?: string } | undefined {
  const at = username.lastIndexOf('@sas.');
  if (at <= 0) return undefined;
  const parts = username.slice(0, at).split('/');
  if (parts.length === 1 && parts[0]) return { deviceId: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { deviceId: parts[0], moduleId: parts[1] };
  if (parts.length === 3 && parts[0] && parts[1] === 'modules' && parts[2])
    return { deviceId: parts[0], moduleId: parts[2] };
  return undefined;
}
