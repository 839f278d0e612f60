import { filePathFromSetting } from './file-uri.js';
import { SchemaViolation } from './errors.js';
import { isMapping, type Mapping } from './merge.js';

/** How a YAML value is named in "expected …, found …" messages; never the value itself. */
export function describeType(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a sequence';
  if (value instanceof Date) return 'a timestamp';
  if (isMapping(value)) return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

export function joinPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/**
 * Typed, path-aware access to one mapping of the merged configuration. Every accessor throws a
 * SchemaViolation naming the full key path. A key holding null counts as absent.
 */
export class Section {
  constructor(
    readonly path: string,
    readonly value: Mapping,
  ) {}

  static of(value: unknown, path: string): Section {
    if (!isMapping(value))
      throw new SchemaViolation(path, `expected a mapping, found ${describeType(value)}`);
    return new Section(path, value);
  }

  key(name: string): string {
    return joinPath(this.path, name);
  }

  has(name: string): boolean {
    const value = this.value[name];
    return value !== undefined && value !== null;
  }

  fail(name: string, problem: string): never {
    throw new SchemaViolation(this.key(name), problem);
  }

  private required(name: string): unknown {
    if (!this.has(name)) this.fail(name, 'missing required field');
    return this.value[name];
  }

  section(name: string): Section {
    return Section.of(this.required(name), this.key(name));
  }

  optionalSection(name: string): Section | undefined {
    return this.has(name) ? this.section(name) : undefined;
  }

  /** Numbers and booleans are accepted where text is expected, as the original loader did. */
  string(name: string): string {
    return toText(this.required(name), this.key(name));
  }

  optionalString(name: string): string | undefined {
    return this.has(name) ? this.string(name) : undefined;
  }

  boolean(name: string, fallback: boolean): boolean {
    if (!this.has(name)) return fallback;
    const value = this.value[name];
    if (typeof value !== 'boolean') this.fail(name, `expected a boolean, found ${describeType(value)}`);
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    return this.has(name) ? this.boolean(name, false) : undefined;
  }

  integer(name: string, min: number, max: number): number {
    const value = this.required(name);
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.fail(name, `expected an integer, found ${describeType(value)}`);
    }
    if (value < min || value > max) this.fail(name, `${value} is out of range ${min}..${max}`);
    return value;
  }

  /** One of `allowed`, compared exactly. */
  choice<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.string(name);
    if (!(allowed as readonly string[]).includes(value)) {
      this.fail(name, `unknown value ${JSON.stringify(value)}, expected one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  /** A URL that parses; with `schemes`, its scheme must be one of them. Returned as written. */
  url(name: string, schemes?: readonly string[]): string {
    const value = this.string(name);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return this.fail(name, `invalid URL ${JSON.stringify(value)}`);
    }
    const scheme = url.protocol.slice(0, -1);
    if (schemes !== undefined && !schemes.includes(scheme)) {
      this.fail(name, `unsupported scheme ${JSON.stringify(scheme)}, expected one of ${schemes.join(', ')}`);
    }
    return value;
  }

  /** A certificate or key location: a plain path or a local `file://` URI. Returned as written. */
  filePath(name: string): string {
    const value = this.string(name);
    try {
      filePathFromSetting(value, this.key(name));
    } catch (error) {
      this.fail(name, error instanceof Error ? error.message : String(error));
    }
    return value;
  }

  /** A mapping of text to text (module environment variables). */
  stringMap(name: string): Record<string, string> {
    if (!this.has(name)) return {};
    const map = this.section(name);
    const result: Record<string, string> = {};
    for (const [key, value] of Object.entries(map.value)) result[key] = toText(value, map.key(key));
    return result;
  }
}

function toText(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))
    return String(value);
  throw new SchemaViolation(path, `expected a string, found ${describeType(value)}`);
}
