/** IoT Hub's claims-based security (`$cbs` node): what a put-token request asks for. */

export const SAS_TOKEN_TYPE = 'servicebus.windows.net:sastoken';

/**
 * The application property of a put-token that makes it one "on behalf of" (nested edge): the
 * auth-chain, target first and the acting child edge device last, whose `$edgeHub` token the body is.
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
 * the SAS token type, `name` = the audience, optionally `auth-chain`; the token is the body (a
 * string, or bytes).
 */
export function parsePutToken(properties: Record<string, unknown> | undefined, body: unknown): PutToken {
  const operation = properties?.operation;
  if (operation !== 'put-token')
    return { ok: false, status: 400, reason: `unsupported $cbs operation ${JSON.stringify(operation)}` };
  if (properties?.type !== SAS_TOKEN_TYPE)
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
  return { ok: true, ...identity, token, ...(authChain === undefined ? {} : { authChain }) };
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
