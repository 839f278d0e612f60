import { malformed } from './deployment-error.js';
import { describeJson, isObject, joinPath, type JsonObject } from './manifest-fields.js';
import { parseJsonQuietly } from '../json-syntax.js';

/** `createOptions` plus `createOptions01`..`createOptions99`: at most 100 chunks, as in IoT Edge. */
const CHUNK = /^createoptions(\d+)?$/i;

/**
 * The Docker ContainerCreate body of a module's `settings`: the string `createOptions` followed by
 * the chunks `createOptions01`, `createOptions02`, … (names compared without case, numbering
 * contiguous), joined and parsed as one JSON object. Absent, empty or "null" means `{}`.
 * Messages name the setting but never quote its text, which may carry secrets.
 */
export function parseCreateOptions(settings: JsonObject, settingsPath: string): JsonObject {
  const chunks = new Map<number, { key: string; text: string }>();
  for (const [key, value] of Object.entries(settings)) {
    const match = CHUNK.exec(key);
    if (match === null) continue;
    const index = match[1] === undefined ? 0 : Number(match[1]);
    const path = joinPath(settingsPath, key);
    if (match[1] !== undefined && (match[1].length !== 2 || index === 0)) {
      throw malformed(path, 'createOptions chunks are named createOptions01 to createOptions99');
    }
    const other = chunks.get(index);
    if (other !== undefined) throw malformed(path, `duplicates ${joinPath(settingsPath, other.key)}`);
    if (value === null && index === 0) continue;
    if (typeof value !== 'string') {
      const hint = isObject(value) ? ' holding JSON (write the object as a JSON string)' : '';
      throw malformed(path, `expected a string${hint}, found ${describeJson(value)}`);
    }
    chunks.set(index, { key, text: value });
  }
  if (chunks.size === 0) return {};

  const highest = Math.max(...chunks.keys());
  for (let index = 0; index <= highest; index++) {
    if (!chunks.has(index)) {
      const missing = index === 0 ? 'createOptions' : `createOptions${String(index).padStart(2, '0')}`;
      const next = chunks.get(Math.min(...[...chunks.keys()].filter((k) => k > index)));
      throw malformed(
        joinPath(settingsPath, next?.key ?? missing),
        `createOptions chunks must be contiguous, but ${missing} is missing`,
      );
    }
  }

  const text = [...chunks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, chunk]) => chunk.text)
    .join('');
  const path = joinPath(settingsPath, 'createOptions');
  if (text.trim() === '' || text.trim() === 'null') return {};
  const parsed = parseJsonQuietly(text);
  if (!parsed.ok) throw malformed(path, `not valid JSON (${parsed.message})`);
  if (!isObject(parsed.value)) {
    throw malformed(path, `expected a JSON object, found ${describeJson(parsed.value)}`);
  }
  return parsed.value;
}
