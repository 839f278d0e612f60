import { execFile, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** What the package tests share: the repository, its version, and running the tools they need. */

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const VERSION = (JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string })
  .version;
export const PLACEHOLDER = '<ADD DEVICE CONNECTION STRING HERE>';

const run = promisify(execFile);

export const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** Runs a command in the repository and returns its stdout; a failure shows its stderr. */
export async function sh(file: string, args: string[]): Promise<string> {
  const { stdout } = await run(file, args, { maxBuffer: 64 * 1024 * 1024, cwd: REPO });
  return stdout;
}

/** `npm pack` of the repository (as it is built in dist/) into a directory; returns the tarball. */
export async function npmPack(dir: string): Promise<string> {
  await sh('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir]);
  return join(dir, `iotedge-ts-${VERSION}.tgz`);
}

/** Loads better-sqlite3 from an installed tree and returns SQLite's version. */
export const sqliteVersion = (modules: string): Promise<string> =>
  sh(process.execPath, [
    '-e',
    `const D = require(${JSON.stringify(join(modules, 'better-sqlite3'))});` +
      `process.stdout.write(new D(':memory:').prepare('select sqlite_version() v').get().v)`,
  ]);
