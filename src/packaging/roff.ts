/**
 * roff text for man pages: characters that roff reads as markup are escaped, so any description
 * prints as written.
 */

/** Escapes text for use inside a roff line: backslashes, hyphens (as minus signs) and quotes. */
export function roffText(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-');
}

/**
 * Escapes text that fills one or more lines: as roffText, and a line that would start with a
 * control character (`.` or `'`) is protected with `\&`; blank lines become paragraph breaks.
 */
export function roffLines(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .map((line) => (line === '' ? '.PP' : roffText(line).replace(/^([.'])/, '\\&$1')))
    .join('\n');
}

/** A `.TH` title line; fields are quoted so they may hold spaces. */
export function roffTitle(
  name: string,
  section: number,
  date: string,
  source: string,
  manual: string,
): string {
  const quoted = [date, source, manual].map((field) => `"${roffText(field).replace(/"/g, "''")}"`);
  return `.TH ${name.toUpperCase()} ${section} ${quoted.join(' ')}`;
}
