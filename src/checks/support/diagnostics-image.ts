import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsConstants, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import type { CheckInputs } from '../types.js';
import { isNotFound, type DockerEngine } from '../../runtime/modules/docker/docker-engine.js';

/*
 * The diagnostics image is built on the device from what is already there: the running node binary with
 * the shared libraries it links, the system CA bundle, and the compiled diagnostics program. Nothing is
 * pulled, so `iotedge check` works offline and air-gapped.
 *
 * An image that already exists under the requested name is used as it is, with one exception: an image
 * this code built itself (it carries VERSION_LABEL) whose program fingerprint differs from the program
 * installed now is rebuilt, so an upgrade never runs a stale diagnostics program. Any name can be built,
 * not only the default one: `--diagnostics-image-name` names where the image lives, not where it comes from.
 */

export const VERSION_LABEL = 'net.azure-devices.edge.diagnostics';
export const FINGERPRINT_LABEL = 'net.azure-devices.edge.diagnostics.fingerprint';

/** Where the program lives in the image; paths below it mirror the compiled tree (dist/). */
const APP_DIR = '/app';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** Without it glibc would ask DNS before /etc/hosts, which hangs on offline devices resolving `localhost`. */
const NSSWITCH = 'hosts: files dns\nnetworks: files\n';

const execFileAsync = promisify(execFile);

/** The compiled tree this module belongs to (dist/), and the diagnostics program in it. */
const DIST_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PROGRAM_ENTRY = join(DIST_ROOT, 'src', 'diagnostics', 'main.js');

/** Absolute paths of the shared objects in `ldd` output, including the dynamic loader; vdso has no file. */
export function parseLdd(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    const arrow = /=>\s*(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(0x[0-9a-f]+\)/i.exec(line);
    const path = arrow?.[1] ?? bare?.[1];
    if (path) paths.add(path);
  }
  return [...paths];
}

/** Module specifiers a compiled ES module imports statically, re-exports, or imports dynamically with a literal. */
export function importSpecifiers(source: string): string[] {
  const found = new Set<string>();
  const patterns = [
    /(?:^|[;\s])(?:import|export)\s*(?:[\w*{}\s,$]*?\sfrom\s*)?(['"])([^'"\n]+)\1/g,
    /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) found.add(match[2]);
  }
  return [...found];
}

/**
 * The entry module and every module it reaches through relative imports, as absolute paths.
 * A bare package import is refused: the image carries no node_modules.
 */
export async function programModules(entry: string): Promise<string[]> {
  const seen = new Set<string>();
  const pending = [resolve(entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const specifier of importSpecifiers(source)) {
      if (specifier.startsWith('./') || specifier.startsWith('../')) {
        pending.push(resolve(dirname(file), specifier));
      } else if (!isBuiltin(specifier)) {
        throw new Error(
          `${file} imports ${specifier}: the diagnostics program may only import node: built-ins and relative modules`,
        );
      }
    }
  }
  return [...seen].sort();
}

async function sharedLibraries(executable: string): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync('ldd', [executable]);
    return parseLdd(stdout);
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(output)) return [];
    throw new Error(`Could not list the shared libraries of ${executable} with ldd`, { cause: error });
  }
}

/** Identifies the program an image runs: node's build and the compiled diagnostics modules. */
async function fingerprint(modules: string[]): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`${process.version} ${process.arch} ${process.execPath}\n`);
  for (const file of modules) {
    hash.update(`${relative(DIST_ROOT, file)}\n`);
    hash.update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 32);
}

/** Whether an image found under the requested name can be used as it is (see the note at the top). */
export function imageIsCurrent(
  labels: Record<string, string> | null | undefined,
  expectedFingerprint: string,
): boolean {
  if (!labels?.[VERSION_LABEL]) return true;
  return labels[FINGERPRINT_LABEL] === expectedFingerprint;
}

export function dockerfile(options: {
  entrypoint: string[];
  libraryDirs: string[];
  labels: Record<string, string>;
}) {
  const lines = ['FROM scratch', 'COPY rootfs/ /'];
  if (options.libraryDirs.length > 0) lines.push(`ENV LD_LIBRARY_PATH=${options.libraryDirs.join(':')}`);
  for (const [key, value] of Object.entries(options.labels))
    lines.push(`LABEL ${key}=${JSON.stringify(value)}`);
  lines.push(`ENTRYPOINT ${JSON.stringify(options.entrypoint)}`);
  return `${lines.join('\n')}\n`;
}

async function stageFile(rootfs: string, hostPath: string, imagePath = hostPath): Promise<void> {
  const target = join(rootfs, ...imagePath.split('/').filter(Boolean));
  await mkdir(dirname(target), { recursive: true });
  // Follows symlinks: the image gets the file itself at the path the host used to reach it.
  await copyFile(hostPath, target, fsConstants.COPYFILE_FICLONE);
}

/** Writes a Docker build context (Dockerfile + rootfs/) for the diagnostics image into `contextDir`. */
async function stageContext(
  contextDir: string,
  modules: string[],
  labels: Record<string, string>,
): Promise<void> {
  const rootfs = join(contextDir, 'rootfs');
  const node = process.execPath;
  const libraries = await sharedLibraries(node);
  await stageFile(rootfs, node);
  for (const library of libraries) await stageFile(rootfs, library);
  if (existsSync(CA_BUNDLE)) await stageFile(rootfs, CA_BUNDLE);
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(join(rootfs, 'etc', 'nsswitch.conf'), NSSWITCH);
  for (const module of modules) {
    await stageFile(rootfs, module, posix.join(APP_DIR, relative(DIST_ROOT, module).split(sep).join('/')));
  }
  // The compiled modules are ES modules; node needs a package.json saying so.
  await writeFile(join(rootfs, APP_DIR.slice(1), 'package.json'), '{ "type": "module" }\n');
  const entry = posix.join(APP_DIR, relative(DIST_ROOT, PROGRAM_ENTRY).split(sep).join('/'));
  const libraryDirs = [...new Set(libraries.map((library) => posix.dirname(library)))];
  await writeFile(
    join(contextDir, 'Dockerfile'),
    dockerfile({ entrypoint: [node, entry], libraryDirs, labels }),
  );
}

/** Sends the context to the engine and waits for the build; an error line in the progress stream fails it. */
async function buildFromContext(
  engine: DockerEngine,
  contextDir: string,
  imageName: string,
  signal: AbortSignal,
): Promise<void> {
  const { pack } = await import('tar-fs');
  // tar-fs streams are streamx streams, which dockerode pipes like node streams.
  const context = pack(contextDir) as unknown as NodeJS.ReadableStream;
  const progress = await engine.client.buildImage(context, {
    t: imageName,
    rm: true,
    forcerm: true,
    abortSignal: signal,
  });
  const recent: string[] = [];
  let buffered = '';
  const handle = (line: string) => {
    if (line.trim() === '') return;
    const event = JSON.parse(line) as { stream?: string; error?: string; errorDetail?: { message?: string } };
    if (event.error || event.errorDetail) {
      const detail = recent.length > 0 ? ` (after: ${recent.join(' | ')})` : '';
      throw new Error(`${event.errorDetail?.message ?? event.error}${detail}`);
    }
    if (event.stream?.trim()) recent.push(event.stream.trim());
    if (recent.length > 3) recent.shift();
  };
  for await (const chunk of progress) {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    lines.forEach(handle);
  }
  handle(buffered);
}

async function provideImage(
  engine: DockerEngine,
  imageName: string,
  signal: AbortSignal,
  version: string,
): Promise<string> {
  if (process.platform !== 'linux') {
    throw new Error(`The diagnostics image ${imageName} is absent and can only be built on Linux hosts`);
  }
  const modules = await programModules(PROGRAM_ENTRY);
  const expected = await fingerprint(modules);
  let staleId: string | undefined;
  try {
    const existing = await engine.client.getImage(imageName).inspect();
    if (imageIsCurrent(existing.Config?.Labels, expected)) return imageName;
    staleId = existing.Id;
  } catch (error) {
    if (!isNotFound(error))
      throw new Error(`Could not inspect the diagnostics image ${imageName}`, { cause: error });
  }

  const contextDir = await mkdtemp(join(tmpdir(), 'iotedge-diagnostics-'));
  try {
    await stageContext(contextDir, modules, { [VERSION_LABEL]: version, [FINGERPRINT_LABEL]: expected });
    await buildFromContext(engine, contextDir, imageName, signal);
  } catch (error) {
    throw new Error(`Could not build the diagnostics image ${imageName}`, { cause: error });
  } finally {
    await rm(contextDir, { recursive: true, force: true });
  }
  // The replaced image is now untagged; remove it unless a container still uses it.
  if (staleId)
    await engine.client
      .getImage(staleId)
      .remove()
      .catch(() => undefined);
  return imageName;
}

const inFlight = new Map<string, Promise<string>>();

/**
 * Makes sure the engine has the diagnostics image `imageName`, building it locally when absent (or when it is
 * a stale build of ours). Resolves to the image name. Concurrent callers for the same engine and name share
 * one inspection/build, which honours the first caller's signal.
 */
export function ensureDiagnosticsImage(
  engine: DockerEngine,
  imageName: string,
  signal: AbortSignal,
  options: { version?: string } = {},
): Promise<string> {
  const key = `${engine.uri}\u0000${imageName}`;
  let pending = inFlight.get(key);
  if (!pending) {
    pending = provideImage(engine, imageName, signal, options.version ?? 'unknown').finally(() =>
      inFlight.delete(key),
    );
    inFlight.set(key, pending);
  }
  return pending;
}

/** How the check runner obtains the `diagnosticsImage` fact, once per run. */
export const diagnosticsImageFact = (
  docker: DockerEngine,
  inputs: CheckInputs,
  signal: AbortSignal,
): Promise<string> =>
  ensureDiagnosticsImage(docker, inputs.diagnosticsImageName, signal, { version: inputs.cliVersion });
