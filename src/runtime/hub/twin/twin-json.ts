/** JSON values of twin documents, and JSON merge patch (RFC 7396) over them. */

export type TwinValue = string | number | boolean | null | TwinValue[] | TwinObject;

export interface TwinObject {
  [key: string]: TwinValue;
}

export function isTwinObject(value: unknown): value is TwinObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets a key even when it is `__proto__` (an own property after JSON.parse, a setter otherwise). */
export function setKey(target: TwinObject, key: string, value: TwinValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

export function cloneValue<T extends TwinValue>(value: T): T {
  return typeof value === 'object' && value !== null ? structuredClone(value) : value;
}

export function jsonEqual(a: TwinValue | undefined, b: TwinValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual(a[key], b[key]));
}

/**
 * `patch` applied to `target`, as a new object (neither input changes): null deletes, an object
 * merges into the object there (or into {} when there is none), anything else replaces.
 */
export function mergePatch(target: TwinObject, patch: TwinObject): TwinObject {
  const result: TwinObject = { ...target };
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) delete result[key];
    else if (isTwinObject(value)) {
      const current = Object.prototype.hasOwnProperty.call(result, key) ? result[key] : undefined;
      setKey(result, key, mergePatch(isTwinObject(current) ? current : {}, value));
    } else setKey(result, key, cloneValue(value));
  }
  return result;
}

/** The merge patch that turns `from` into `to`: removed keys as null, changed objects as nested patches. */
export function diffPatch(from: TwinObject, to: TwinObject): TwinObject {
  const patch: TwinObject = {};
  for (const key of Object.keys(from)) {
    if (!Object.prototype.hasOwnProperty.call(to, key)) setKey(patch, key, null);
  }
  for (const key of Object.keys(to)) {
    const before = Object.prototype.hasOwnProperty.call(from, key) ? from[key] : undefined;
    const after = to[key];
    if (isTwinObject(before) && isTwinObject(after)) {
      const inner = diffPatch(before, after);
      if (Object.keys(inner).length > 0) setKey(patch, key, inner);
    } else if (!jsonEqual(before, after)) {
      setKey(patch, key, cloneValue(after));
    }
  }
  return patch;
}
