/**
 * IoT Hub's size limit on a twin's desired and reported properties: 32 KB each, counted over the
 * whole section (not a single patch) as IoT Hub counts it: every property name as UTF-8 bytes, plus
 * its value: a string as UTF-8 bytes without control characters, a number 8 bytes, a boolean 4, an
 * object or array the sum of what it holds. The service's own `$`-keys (`$version`, `$metadata`)
 * at the top of the section are not counted. An operation that would make a section larger is
 * refused whole; the twin stays as it was.
 */
export const MAX_TWIN_SECTION_BYTES = 32 * 1024;

// Unicode's C0 and C1 control characters (and DEL), written as a class of the category
const CONTROL_CHARACTERS = /\p{Cc}/gu;

function textSize(text: string): number {
  return Buffer.byteLength(text.replace(CONTROL_CHARACTERS, ''));
}

function valueSize(value: unknown): number {
  if (value === null || value === undefined) return 0;
  switch (typeof value) {
    case 'string':
      return textSize(value);
    case 'number':
      return 8;
    case 'boolean':
      return 4;
  }
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + valueSize(item), 0);
  return typeof value === 'object' ? objectSize(value as Record<string, unknown>, false) : 0;
}

function objectSize(value: Record<string, unknown>, top: boolean): number {
  let size = 0;
  for (const key of Object.keys(value)) {
    if (top && key.startsWith('$')) continue;
    size += textSize(key) + valueSize(value[key]);
  }
  return size;
}

/** The size IoT Hub counts for a twin's desired or reported section. */
export function twinSectionSize(section: Record<string, unknown>): number {
  return objectSize(section, true);
}

/** Why `section` may not be a twin's `desired` or `reported` properties (too large), or undefined. */
export function twinSectionSizeProblem(
  name: 'desired' | 'reported',
  section: Record<string, unknown>,
): string | undefined {
  const size = twinSectionSize(section);
  if (size <= MAX_TWIN_SECTION_BYTES) return undefined;
  return `Twin ${name} properties size ${size} would exceed the maximum of ${MAX_TWIN_SECTION_BYTES} bytes`;
}
