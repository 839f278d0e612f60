import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { isNotFound, type DockerEngine } from '../../src/runtime/modules/docker/docker-engine.js';

export const BUSYBOX_IMAGE = 'iotedge-ts-test-busybox:1';
/** Debian's busybox-static: a static binary, so the image needs no shared libraries. */
const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'echo', 'sleep', 'test', 'cat', 'touch', 'rm', 'true', 'false', 'ls', 'date', 'kill'];

/** Why the busybox test image cannot be built here, or false. */
export const busyboxMissing = (): string | false =>
  existsSync(BUSYBOX) ? false : `${BUSYBOX} is missing (apt-get install busybox-static)`;

/**
 * Makes `image` (default BUSYBOX_IMAGE) by importing a root filesystem holding busybox (nothing is pulled).
 * Test files running in parallel use distinct names, since each removes what it created.
 * Returns true when this call created it, so the caller knows to remove it.
 */
export async function ensureBusyboxImage(engine: DockerEngine, image = BUSYBOX_IMAGE): Promise<boolean> {
  try {
    await engine.client.getImage(image).inspect();
    return false;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const root = await mkdtemp(join(tmpdir(), 'iotedge-test-busybox-'));
  try {
    await mkdir(join(root, 'bin'));
    await mkdir(join(root, 'tmp'));
    await chmod(join(root, 'tmp'), 0o1777);
    await copyFile(BUSYBOX, join(root, 'bin', 'busybox'));
    for (const applet of APPLETS) await symlink('busybox', join(root, 'bin', applet));
    const { pack } = await import('tar-fs');
    const [repo, tag] = image.split(':');
    const stream = await engine.client.importImage(pack(root) as unknown as NodeJS.ReadableStream, {
      repo,
      tag,
    });
    const events = await new Promise<{ error?: string }[]>((resolve, reject) =>
      engine.client.modem.followProgress(stream, (error: Error | null, output: { error?: string }[]) =>
        error ? reject(error) : resolve(output),
      ),
    );
    const failure = events.find((event) => event.error);
    if (failure) throw new Error(`importing ${image} failed: ${failure.error}`);
    return true;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
