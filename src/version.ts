import { readFileSync } from 'node:fs';

let cached: string | undefined;

/** This package's version, read once from package.json (two levels above dist/src). */
export function packageVersion(): string {
  cached ??= (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return cached;
}

/** `iotedge <version>`, the line `iotedge version` and `iotedge --version` print. */
export function versionLine(): string {
  return `iotedge ${packageVersion()}`;
}
