/**
 * IoT Hub's checks on a reported-properties patch, as edgeHub's ReportedPropertiesValidator makes
 * them: object nesting <= 10, names <= 1024 UTF-8 bytes without `.` `$` `#`, whitespace or control
 * characters, integers within [-2^52, 2^52 - 1], other values <= 4096 UTF-8 bytes as text, no null in
 * arrays (nor in objects inside arrays), the whole patch <= 32 KiB.
 */
import { isTwinObject, type TwinObject } from './twin-json.js';
import { twinSectionSizeProblem } from '../../deployment/twin-size.js';

export const MAX_DEPTH = 10;
export const MAX_NAME_BYTES = 1024;
export const MAX_VALUE_BYTES = 4096;
export const MAX_PATCH_BYTES = 32 * 1024;
export const MAX_INTEGER = 2 ** 52 - 1;
export const MIN_INTEGER = -(2 ** 52);

/** IoT Hub's error code for "the request body cannot be validated" (ArgumentInvalid). */
export const ARGUMENT_INVALID = 400004;

const INVALID_NAME_CHAR = /[.$#\s\p{Cc}]/u;

export class TwinPatchError extends Error {
  readonly status = 400;
  readonly errorCode = ARGUMENT_INVALID;

  constructor(
    /** The offending property, like `a.b[2].c`; empty for the patch as a whole. */
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'TwinPatchError';
  }

  /** The twin error reply body: the Node SDK fails the call only when the body has an `errorCode`. */
  body(): { errorCode: number; message: string } {
    return { errorCode: this.errorCode, message: this.message };
  }
}

type Segment = string | number;

function formatPath(path: readonly Segment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? segment : `.${segment}`;
  }
  return text;
}

class Walker {
  private readonly path: Segment[] = [];

  fail(message: (path: string) => string): never {
    const path = formatPath(this.path);
    throw new TwinPatchError(path, message(path));
  }

  object(value: Record<string, unknown>, depth: number, inArray: boolean): void {
    if (depth > MAX_DEPTH) this.fail((p) => `Nested depth of twin property ${p} exceeds ${MAX_DEPTH}`);
    for (const key of Object.keys(value)) {
      this.path.push(key);
      this.name(key);
      this.value(value[key], depth + 1, inArray);
      this.path.pop();
    }
  }

  array(value: unknown[], depth: number): void {
    if (depth > MAX_DEPTH) this.fail((p) => `Nested depth of twin property ${p} exceeds ${MAX_DEPTH}`);
    value.forEach((item, index) => {
      this.path.push(index);
      if (item === null) this.fail((p) => `Arrays cannot contain 'null' as value (${p})`);
      this.value(item, depth + 1, true);
      this.path.pop();
    });
  }

  name(key: string): void {
    if (Buffer.byteLength(key) > MAX_NAME_BYTES) {
      this.fail(
        (p) => `Length of property name ${p.slice(0, 40)}... exceeds maximum length of ${MAX_NAME_BYTES}`,
      );
    }
    const bad = INVALID_NAME_CHAR.exec(key);
    if (bad) this.fail((p) => `Property name ${p} contains invalid character ${JSON.stringify(bad[0])}`);
  }

  value(value: unknown, depth: number, inArray: boolean): void {
    if (value === null) {
      if (inArray) this.fail((p) => `Property ${p} of an object in an array cannot be 'null'`);
      return;
    }
    switch (typeof value) {
      case 'string':
        return this.text(value);
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(value)) break;
        if (Number.isInteger(value)) {
          if (value > MAX_INTEGER || value < MIN_INTEGER) {
            this.fail(
              (p) =>
                `Property ${p} has an out of bound value. Valid values are between ${MIN_INTEGER} and ${MAX_INTEGER}`,
            );
          }
          return;
        }
        return this.text(String(value));
      case 'object':
        if (Array.isArray(value)) return this.array(value, depth);
        return this.object(value as Record<string, unknown>, depth, inArray);
    }
    this.fail(
      (p) =>
        `Property ${p} has a value of unsupported type. Valid types are integer, float, string, bool, null and nested object`,
    );
  }

  text(value: string): void {
    const bytes = Buffer.byteLength(value);
    if (bytes > MAX_VALUE_BYTES) {
      this.fail(
        (p) =>
          `Value associated with property name ${p} has length ${bytes} that exceeds maximum length of ${MAX_VALUE_BYTES}`,
      );
    }
  }
}

/** Why `patch` may not be applied to reported properties, or undefined when it may. */
export function reportedPatchError(patch: unknown): TwinPatchError | undefined {
  if (!isTwinObject(patch)) return new TwinPatchError('', 'Reported properties must be a JSON object');
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(patch));
  } catch {
    return new TwinPatchError('', 'Reported properties are not JSON');
  }
  if (size > MAX_PATCH_BYTES) {
    return new TwinPatchError('', `Twin properties size ${size} exceeds maximum ${MAX_PATCH_BYTES}`);
  }
  try {
    new Walker().object(patch, 0, false);
  } catch (error) {
    if (error instanceof TwinPatchError) return error;
    throw error;
  }
  return undefined;
}

/** Throws a TwinPatchError when `patch` may not be applied to reported properties. */
export function validateReportedPatch(patch: unknown): void {
  const error = reportedPatchError(patch);
  if (error) throw error;
}

/**
 * Why `section` may not become a twin's desired or reported properties: larger as a whole than
 * IoT Hub's twin size limit (refused as an invalid body, the twin unchanged). Undefined when it may.
 */
export function twinSectionSizeError(
  name: 'desired' | 'reported',
  section: TwinObject,
): TwinPatchError | undefined {
  const problem = twinSectionSizeProblem(name, section);
  return problem === undefined ? undefined : new TwinPatchError('', problem);
}
