/** The one way the CLI prints a JSON document on stdout: two-space indented, one newline. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
