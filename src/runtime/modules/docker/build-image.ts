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
