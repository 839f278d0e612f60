/**
 * What a support bundle must never carry: keys, SAS tokens, passwords, connection-string keys,
 * private keys. Every entry of a bundle goes through one Redactor before it is written; the
 * redactor knows the shapes of secrets (patterns) and, besides, the values learnt while collecting
 * (a module's env value under a secret-looking name, the device key of config.yaml), which it
 * removes wherever they appear, in any text.
 */

/** What stands in for a removed secret. */
export const REDACTED = '***';

/** A name whose value is a secret: `password`, `DB_PASSWORD`, `apiKey`, `sharedAccessKey`, `SAS_TOKEN`... */
const SECRET_NAME =
  /(pass(word|wd|phrase)|^pass$|pwd|secret|token|^sig$|signature|credentials?|private[-_]?key|(^|[-_.a-z])(api|access|account|primary|secondary|shared|symmetric|device|auth|encryption|signing|master|client)[-_]?key|_key$|connection[-_]?string)/i;

/** Names that look like secrets but never hold one. */
const NOT_SECRET =
  /^(sharedaccesskeyname|keyname|key_?name|token_?type|auth(entication)?_?type|credentials_?type)$/i;

/** Whether a variable, field or header of this name holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !NOT_SECRET.test(name);
}

const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;

/** The value part of a `SharedAccessSignature sr=…&sig=…&se=…` token, up to a quote, space or `;`. */
const SAS_TOKEN = /(SharedAccessSignature)\s+[^\s"';,]+/g;

/** `sig=` in a URL or token outside a whole SAS token (a query string, a half-logged token). */
const SIG_PARAMETER = /([?&\s"']sig=)[^&\s"';,]+/g;

/** `SharedAccessKey=…`, `AccountKey=…` of connection strings. */
const CONNECTION_STRING_KEY = /\b((?:SharedAccessKey|AccountKey|SharedAccessSignature)=)[^;\s"',]+/g;

/** `user:password@` of a URL (a proxy, a registry). */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s"']+:)[^@/\s"']+@/gi;

/** `NAME=value` and `NAME: value` of environment listings, logs and docker inspect's `Config.Env`. */
const ASSIGNMENT = /(^|[\s"'{,[(])([A-Za-z_][A-Za-z0-9_.-]*)(\s*[=:]\s*)("?)([^\s"',;}\]]+)/gm;

/** `"name": "value"` of JSON text (pretty or not), any string value. */
const JSON_FIELD = /("([^"\\]{1,200})"\s*:\s*")((?:[^"\\]|\\.)*)(")/g;

/** `{"key": "DB_PASSWORD", "value": "…"}` and `{"name": …, "value": …}` pairs of env lists. */
const JSON_ENV_PAIR = /("(?:key|name)"\s*:\s*"([^"\\]{1,200})"\s*,\s*"value"\s*:\s*")((?:[^"\\]|\\.)*)(")/g;

/** Known secret values shorter than this are not searched for: they would match everywhere. */
const MIN_KNOWN_SECRET = 6;

export class Redactor {
  private readonly known: string[];

  /** `secrets`: values to remove wherever they appear (and their JSON-escaped forms). */
  constructor(secrets: Iterable<string> = []) {
    const values = new Set<string>();
    for (const secret of secrets) {
      if (typeof secret !== 'string' || secret.length < MIN_KNOWN_SECRET) continue;
      values.add(secret);
      values.add(JSON.stringify(secret).slice(1, -1));
    }
    // longest first: a secret that contains another is removed whole
    this.known = [...values].sort((a, b) => b.length - a.length);
  }

  /** A redactor that also removes `secrets`. */
  with(secrets: Iterable<string>): Redactor {
    return new Redactor([...this.known, ...secrets]);
  }

  /** Text with every secret it holds replaced by `***`. */
  text(input: string): string {
    let text = input;
    for (const secret of this.known) text = text.split(secret).join(REDACTED);
    text = text.replace(
      PEM_PRIVATE_KEY,
      `-----BEGIN $1PRIVATE KEY-----${REDACTED}-----END $1PRIVATE KEY-----`,
    );
    text = text.replace(SAS_TOKEN, `$1 ${REDACTED}`);
    text = text.replace(CONNECTION_STRING_KEY, `$1${REDACTED}`);
    text = text.replace(SIG_PARAMETER, `$1${REDACTED}`);
    text = text.replace(URL_PASSWORD, `$1${REDACTED}@`);
    text = text.replace(JSON_ENV_PAIR, (whole, head: string, name: string, _value: string, tail: string) =>
      isSecretName(name) ? `${head}${REDACTED}${tail}` : whole,
    );
    text = text.replace(JSON_FIELD, (whole, head: string, name: string, value: string, tail: string) =>
      isSecretName(name) && value !== REDACTED && value !== '' ? `${head}${REDACTED}${tail}` : whole,
    );
    text = text.replace(
      ASSIGNMENT,
      (whole, before: string, name: string, operator: string, quote: string, value: string) =>
        isSecretName(name) && value !== REDACTED && !value.startsWith(REDACTED)
          ? `${before}${name}${operator}${quote}${REDACTED}`
          : whole,
    );
    return text;
  }

  /** A value as pretty JSON text, redacted: secret-named fields, env pairs, and every string. */
  json(value: unknown): string {
    return this.text(`${JSON.stringify(redactValue(value), null, 2)}\n`);
  }
}

/** A copy of a JSON value whose secret-named fields (and `{key|name, value}` env pairs) hold `***`. */
function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (!value || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const pairName = typeof object.key === 'string' ? object.key : object.name;
  const secretPair = typeof pairName === 'string' && 'value' in object && isSecretName(pairName);
  return Object.fromEntries(
    Object.entries(object).map(([field, inner]) => {
      if ((secretPair && field === 'value') || (isSecretName(field) && typeof inner === 'string'))
        return [field, inner === '' ? inner : REDACTED];
      return [field, redactValue(inner)];
    }),
  );
}

/**
 * The secret values a JSON document holds: strings under secret-looking names (`password`,
 * `SharedAccessKey`...), `{ "DB_PASSWORD": { "value": … } }` entries of a manifest's env, and
 * `{ key|name: "DB_PASSWORD", value: … }` pairs of the management API's env lists. The bundle removes
 * them from every file, also where they appear without their name (a module printing its env).
 */
export function secretValuesIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) secretValuesIn(item, found);
    return found;
  }
  if (!value || typeof value !== 'object') return found;
  const object = value as Record<string, unknown>;
  const pairName = typeof object.key === 'string' ? object.key : object.name;
  if (typeof pairName === 'string' && typeof object.value === 'string' && isSecretName(pairName))
    found.push(object.value);
  for (const [field, inner] of Object.entries(object)) {
    if (isSecretName(field) && typeof inner === 'string') found.push(inner);
    else if (isSecretName(field) && inner && typeof (inner as { value?: unknown }).value === 'string')
      found.push((inner as { value: string }).value);
    else secretValuesIn(inner, found);
  }
  return found;
}

/** The key of a `SharedAccessKey=…` connection string, whole (base64 padding included). */
export function connectionStringKey(connectionString: string): string | undefined {
  return /(?:^|;)\s*SharedAccessKey=([^;]+)/i.exec(connectionString)?.[1]?.trim();
}
