import { malformed } from './deployment-error.js';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a JSON value is named in "expected …, found …" messages; never the value itself. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

/** A short quotation of a user-written identifier (enum value, image), never of free-form text. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

export function joinPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/**
 * Typed, path-aware reading of one JSON object of a deployment manifest. Every accessor throws a
 * 400 DeploymentError whose message starts with the field's full path. `null` is a wrong type,
 * not an absent field (IoT Edge rejects null where it expects a value).
 */
export class Fields {
  constructor(
    readonly path: string,
    readonly value: JsonObject,
  ) {}

  static of(value: unknown, path: string): Fields {
    if (!isObject(value)) throw malformed(path, `expected an object, found ${describeJson(value)}`);
    return new Fields(path, value);
  }

  key(name: string): string {
    return joinPath(this.path, name);
  }

  has(name: string): boolean {
    return this.value[name] !== undefined;
  }

  fail(name: string, problem: string): never {
    throw malformed(this.key(name), problem);
  }

  private required(name: string, hint?: string): unknown {
    if (!this.has(name))
      this.fail(name, hint === undefined ? 'missing (required)' : `missing (required: ${hint})`);
    return this.value[name];
  }

  private typeError(name: string, expected: string): never {
    this.fail(name, `expected ${expected}, found ${describeJson(this.value[name])}`);
  }

  object(name: string): Fields {
    return Fields.of(this.required(name), this.key(name));
  }

  optionalObject(name: string): Fields | undefined {
    return this.has(name) ? this.object(name) : undefined;
  }

  /** A string without NUL: no program, path, name or variable can carry one. */
  string(name: string, hint?: string): string {
    const value = this.required(name, hint);
    if (typeof value !== 'string') this.typeError(name, 'a string');
    if (value.includes('\0')) this.fail(name, 'must not contain a NUL character');
    return value;
  }

  /** A string with something other than whitespace in it, returned trimmed. */
  nonEmptyString(name: string, hint?: string): string {
    const value = this.string(name, hint).trim();
    if (value === '') this.fail(name, 'must not be empty');
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.has(name) ? this.string(name) : undefined;
  }

  /**
   * One of `allowed`. Case is ignored, as IoT Edge's JSON enum reader does, and the canonical
   * spelling is returned.
   */
  choice<T extends string>(name: string, allowed: readonly T[], fallback?: T): T {
    if (!this.has(name) && fallback !== undefined) return fallback;
    const value = this.string(name, allowed.join(' or '));
    const found = allowed.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
    if (found === undefined) {
      this.fail(name, `unknown value ${quote(value)}, expected one of ${allowed.join(', ')}`);
    }
    return found;
  }

  integer(name: string, min: number, max: number, fallback: number): number {
    if (!this.has(name)) return fallback;
    const value = this.value[name];
    if (typeof value !== 'number' || !Number.isInteger(value)) this.typeError(name, 'an integer');
    if (value < min || value > max) this.fail(name, `${value} is out of range ${min}..${max}`);
    return value;
  }

  /** A finite number within min..max (fractions allowed). */
  numberInRange(name: string, min: number, max: number, fallback: number): number {
    if (!this.has(name)) return fallback;
    const value = this.value[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) this.typeError(name, 'a number');
    if (value < min || value > max) this.fail(name, `${value} is out of range ${min}..${max}`);
    return value;
  }

  stringArray(name: string, fallback: string[]): string[] {
    if (!this.has(name)) return fallback;
    const value = this.value[name];
    if (!Array.isArray(value)) this.typeError(name, 'an array of strings');
    value.forEach((item: unknown, index) => {
      const path = `${this.key(name)}[${index}]`;
      if (typeof item !== 'string') throw malformed(path, `expected a string, found ${describeJson(item)}`);
      if (item.includes('\0')) throw malformed(path, 'must not contain a NUL character');
    });
    return [...(value as string[])];
  }

  /** Rejects keys outside `known`; used where a typo would otherwise be silently ignored. */
  onlyKeys(known: readonly string[]): void {
    for (const key of Object.keys(this.value)) {
      if (!known.includes(key)) this.fail(key, `unknown field, expected one of ${known.join(', ')}`);
    }
  }
}
