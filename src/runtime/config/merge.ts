export type Mapping = Record<string, unknown>;

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * `overlay` merged onto `base`: mappings merge key by key, everything else (scalars, sequences, null)
 * replaces what was there. Neither argument is modified.
 */
export function deepMerge(base: Mapping, overlay: Mapping): Mapping {
  const result: Mapping = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    const current = result[key];
    result[key] = isMapping(current) && isMapping(value) ? deepMerge(current, value) : value;
  }
  return result;
}
