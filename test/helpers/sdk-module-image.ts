import path from 'node:path';

import type { DockerEngine } from '../../src/runtime/modules/docker/docker-engine.js';
import { FIXTURES } from './daemon.js';
import { sharedDiagnosticsImage } from './docker.js';
import { buildNodeModuleImage } from '../../src/runtime/modules/docker/build-image.js';

export const SDK_MODULE_IMAGE = 'iotedge-ts-test-sdk-module:latest';

/**
 * Builds a module image the way a user's IoT Edge module image is made, without a registry: the
 * fixture module written with the real azure-iot-device packages, bundled with them into one file,
 * on top of the diagnostics image (this machine's node binary and the libraries it needs).
 * The entrypoint runs the module: the container's Cmd gives its role (`receiver`, `sender 5 receiver`).
 */
export async function buildSdkModuleImage(engine: DockerEngine): Promise<string> {
  const base = await sharedDiagnosticsImage(engine);
  await buildNodeModuleImage(engine, {
    base,
    tag: SDK_MODULE_IMAGE,
    entry: path.join(FIXTURES, 'sdk-module.js'),
  });
  return SDK_MODULE_IMAGE;
}
