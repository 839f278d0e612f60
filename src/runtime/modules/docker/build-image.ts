import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { DockerEngine } from './docker-engine.js';

/**
 * Builds `tag` from a Dockerfile and the files it copies (`files`: name in the context → content).
 * FROM a local image: nothing is pulled.
 */
export async function buildFromDockerfile(
  engine: DockerEngine,
  tag: string,
  dockerfile: string,
  files: Record<string, string | Buffer> = {},
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'iotedge-build-'));
  try {
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    const { pack } = await import('tar-fs');
    const stream = await engine.client.buildImage(pack(dir) as unknown as NodeJS.ReadableStream, { t: tag });
    const events = await new Promise<{ error?: string }[]>((resolve, reject) =>
      engine.client.modem.followProgress(stream, (error: Error | null, output: { error?: string }[]) =>
        error ? reject(error) : resolve(output),
      ),
    );
    const failure = events.find((event) => event.error);
    if (failure) throw new Error(`building ${tag} failed: ${failure.error}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Where a module image keeps its program. */
const MODULE_PROGRAM = '/module/main.mjs';

/**
 * Builds `tag`: the node program `entry` bundled with the packages it imports into one file (as
 * a user's module image holds its program and its node_modules), run by node on top of `base`, a
 * local image with a node binary. The container's Cmd gives the program's arguments.
 */
export async function buildNodeModuleImage(
  engine: DockerEngine,
  options: { base: string; tag: string; entry: string },
): Promise<void> {
  const { build } = await import('esbuild');
  const bundled = await build({
    entryPoints: [options.entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'warning',
    // the SDK's dependencies are CommonJS and call require() for node's built-ins
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
  const dockerfile = [
    `FROM ${options.base}`,
    `COPY main.mjs ${MODULE_PROGRAM}`,
    `ENTRYPOINT ${JSON.stringify([process.execPath, MODULE_PROGRAM])}`,
    '',
  ].join('\n');
  await buildFromDockerfile(engine, options.tag, dockerfile, {
    'main.mjs': Buffer.from(bundled.outputFiles[0]!.contents),
  });
}
