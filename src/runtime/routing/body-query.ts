import type { HubMessage } from './message.js';
import type { Value } from './values.js';

/** One step of a body path: an object key or an array index. */
export type PathStep = string | number;

const SEGMENT = /^([^.[\]]+)((?:\[[0-9]+\])*)$/;
const INDEX = /\[([0-9]+)\]/g;

/**
 * Parses the JSONPath subset used after `$body.` and by twin_change_includes: keys separated by
 * `.`, each optionally followed by `[n]` indices (`a.b[0].c`). Returns the problem as a string when
 * the path is invalid.
 */
export function parsePath(path: string): PathStep[] | string {
  const steps: PathStep[] = [];
  for (const segment of path.split('.')) {
    const match = SEGMENT.exec(segment);
    if (match === null)
      return `invalid path '${path}': expected names separated by '.', each optionally followed by [index]`;
    steps.push(match[1]!);
    for (const index of match[2]!.matchAll(INDEX)) steps.push(Number(index[1]));
  }
  return steps;
}

const NOT_JSON = Symbol('not JSON');

interface ParsedBody {
  /** The body may be queried: JSON content type and a UTF encoding declared (IoT Hub's rule). */
  queryable: boolean;
  json: unknown;
}

/** Parsed once per message, however many routes or conditions look into its body. */
const cache = new WeakMap<HubMessage, ParsedBody>();
const JSON_CONTENT_TYPE = /^\s*application\/json\s*(;.*)?$/i;

function parsedBody(message: HubMessage): ParsedBody {
  let entry = cache.get(message);
  if (entry === undefined) {
    const { contentType, contentEncoding } = message.systemProperties;
    const encoding = contentEncoding?.trim().toLowerCase();
    const queryable =
      contentType !== undefined &&
      JSON_CONTENT_TYPE.test(contentType) &&
      (encoding === 'utf-8' || encoding === 'utf-16' || encoding === 'utf-32');
    entry = { queryable, json: parseJson(message.body, encoding ?? 'utf-8') };
    cache.set(message, entry);
  }
  return entry;
}

function parseJson(body: Buffer, encoding: string): unknown {
  const text = decode(body, encoding);
  if (text === undefined) return NOT_JSON;
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return NOT_JSON;
  }
}

function decode(body: Buffer, encoding: string): string | undefined {
  switch (encoding) {
    case 'utf-8':
      return body.toString('utf8');
    case 'utf-16':
      return decodeUtf16(body);
    case 'utf-32':
      return decodeUtf32(body);
    default:
      return undefined;
  }
}

/** Little-endian unless a big-endian byte-order mark says otherwise (as .NET's Encoding.Unicode). */
function decodeUtf16(body: Buffer): string | undefined {
  if (body.length % 2 !== 0) return undefined;
  if (body[0] === 0xfe && body[1] === 0xff) return Buffer.from(body).swap16().toString('utf16le');
  return body.toString('utf16le');
}

function decodeUtf32(body: Buffer): string | undefined {
  if (body.length % 4 !== 0) return undefined;
  const bigEndian = body[0] === 0 && body[1] === 0 && body[2] === 0xfe && body[3] === 0xff;
  let text = '';
  for (let i = 0; i < body.length; i += 4) {
    const code = bigEndian ? body.readUInt32BE(i) : body.readUInt32LE(i);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    text += String.fromCodePoint(code);
  }
  return text;
}

/** Follows `steps` from `root`; `found` is false when a step is missing. */
function walk(root: unknown, steps: readonly PathStep[]): { found: boolean; value: unknown } {
  let value = root;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(value) || step >= value.length) return { found: false, value: undefined };
      value = value[step];
    } else {
      if (
        value === null ||
        typeof value !== 'object' ||
        Array.isArray(value) ||
        !Object.hasOwn(value, step)
      ) {
        return { found: false, value: undefined };
      }
      value = (value as Record<string, unknown>)[step];
    }
  }
  return { found: true, value };
}

/**
 * The value at `steps` in the message body. IoT Hub semantics: a missing path, a non-JSON body, a
 * body not declared as JSON in a UTF encoding, or a path ending on an object or array are all
 * `undefined`; JSON null is `null`.
 */
export function queryBody(message: HubMessage, steps: readonly PathStep[]): Value {
  const body = parsedBody(message);
  if (!body.queryable || body.json === NOT_JSON) return undefined;
  const { value } = walk(body.json, steps);
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    default:
      return value === null ? null : undefined;
  }
}

/**
 * Whether a twin change notification's patch contains `steps` (any value, null included: a null
 * in a patch deletes the property, which is a change). The body of a twin change notification is
 * always JSON, so its content type is not checked; other messages give `undefined`.
 */
export function patchIncludes(message: HubMessage, steps: readonly PathStep[]): Value {
  if (message.source !== '/twinChangeNotifications') return undefined;
  const body = parsedBody(message);
  if (body.json === NOT_JSON) return undefined;
  return walk(body.json, steps).found;
}
