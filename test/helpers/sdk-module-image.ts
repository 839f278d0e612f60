import path from 'node:path';

import { build } from 'esbuild';

import type { DockerEngine } from '../../src/runtime/modules/docker/docker-engine.js';
import { FIXTURES } from './daemon.js';
import { buildFromDockerfile, sharedDiagnosticsImage } from './docker.js';

export const SDK_MODULE_IMAGE = 'iotedge-ts-test-sdk-module:latest';

/** Where the image keeps the module program. */
const PROGRAM = '/module/sdk-module.mjs';

/**
 * Builds a module image the way a user's IoT Edge module image is made, without a registry: the
 * fixture module written with the real azure-iot-device packages, bundled with them into one file,
 * on top of the diagnostics image (this machine's node binary and the libraries it needs).
 * The entrypoint runs the module: the container's Cmd gives its role (`receiver`, `sender 5 receiver`).
 */
export async function buildSdkModuleImage(engine: DockerEngine): Promise<string> {
  const base = await sharedDiagnosticsImage(engine);
  const bundled = await build({
    entryPoints: [path.join(FIXTURES, 'sdk-module.js')],
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
    `FROM ${base}`,
    `COPY sdk-module.mjs ${PROGRAM}`,
    `ENTRYPOINT ${JSON.stringify([process.execPath, PROGRAM])}`,
    '',
  ].join('\n');
  await buildFromDockerfile(engine, SDK_MODULE_IMAGE, dockerfile, {
    'sdk-module.mjs': Buffer.from(bundled.outputFiles[0]!.contents),
  });
  return SDK_MODULE_IMAGE;
}
