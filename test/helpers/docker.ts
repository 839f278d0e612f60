import { randomBytes } from 'node:crypto';

import type Dockerode from 'dockerode';

import { ensureDiagnosticsImage } from '../../src/checks/support/diagnostics-image.js';
import {
  dockerAvailable,
  isNotFound,
  type DockerEngine,
} from '../../src/runtime/modules/docker/docker-engine.js';

/** The engine integration tests use: DOCKER_HOST when it is a unix socket, else the default socket. */
export const DOCKER_URI = process.env.DOCKER_HOST?.startsWith('unix://')
  ? process.env.DOCKER_HOST
  : 'unix:///var/run/docker.sock';

/** Diagnostics image shared by test files and runs; rebuilt only when the diagnostics program changes. */
export const SHARED_DIAGNOSTICS_IMAGE = 'iotedge-ts-test-diagnostics:latest';

/** The engine, or the reason to skip when none answers. */
export async function testEngine(): Promise<{ engine?: DockerEngine; skip: string | false }> {
  const availability = await dockerAvailable(DOCKER_URI);
  return availability.available
    ? { engine: availability.engine, skip: false }
    : { skip: availability.reason };
}

export const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export function sharedDiagnosticsImage(engine: DockerEngine): Promise<string> {
  return ensureDiagnosticsImage(engine, SHARED_DIAGNOSTICS_IMAGE, AbortSignal.timeout(120_000), {
    version: 'test',
  });
}

export { buildFromDockerfile } from '../../src/runtime/modules/docker/build-image.js';

export async function removeImage(engine: DockerEngine, name: string): Promise<void> {
  await engine.client
    .getImage(name)
    .remove({ force: true })
    .catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
}

export async function removeContainer(engine: DockerEngine, name: string): Promise<void> {
  await engine.client
    .getContainer(name)
    .remove({ force: true, v: true })
    .catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
}

export async function containerExists(engine: DockerEngine, name: string): Promise<boolean> {
  try {
    await engine.client.getContainer(name).inspect();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Creates (never starts) a container named `name` from `image`, e.g. a stand-in edgeAgent. */
export async function createIdleContainer(
  engine: DockerEngine,
  name: string,
  image: string,
  options: { env?: string[]; binds?: string[]; volumes?: string[]; portBindings?: Dockerode.PortMap } = {},
): Promise<void> {
  await engine.client.createContainer({
    name,
    Image: image,
    Cmd: ['local-time'],
    Env: options.env,
    Volumes: Object.fromEntries((options.volumes ?? []).map((volume) => [volume, {}])),
    HostConfig: { Binds: options.binds, PortBindings: options.portBindings, NetworkMode: 'none' },
  });
}
