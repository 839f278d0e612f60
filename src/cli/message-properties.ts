import { CliError } from './cli-error.js';

/**
 * Application properties written as `az iot device c2d-message send --props` takes them:
 * `key=value` pairs separated by `;` (a value may contain `=`). Empty pairs are skipped.
 */
export function parseMessageProperties(text: string | undefined): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const pair of (text ?? '').split(';')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = (eq === -1 ? pair : pair.slice(0, eq)).trim();
    if (eq === -1 || key === '')
      throw new CliError(`--props: expected key=value pairs separated by ; (got "${pair}")`);
    properties[key] = pair.slice(eq + 1);
  }
  return properties;
}
