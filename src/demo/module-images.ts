import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDiagnosticsImage } from '../checks/support/diagnostics-image.js';
import { defaultDiagnosticsImageName } from '../checks/support/diagnostics-name.js';
import { buildNodeModuleImage } from '../runtime/modules/docker/build-image.js';
import type { DockerEngine } from '../runtime/modules/docker/docker-engine.js';
import { packageVersion } from '../version.js';

/** The demo modules' images, by the program each runs (under dist/src/demo). */
export const DEMO_IMAGES = [
  { image: 'iotedge-ts-demo-sensor:latest', program: 'simulated-temperature-sensor/main.js' },
  { image: 'iotedge-ts-demo-filter:latest', program: 'filter/main.js' },
] as const;

const DEMO_DIR = path.dirname(fileURLToPath(import.meta.url));

/**
 * Builds the demo modules as local images, as a user's IoT Edge module image is made but without a
 * registry: each module bundled with the SDK packages into one file, on top of the diagnostics image
 * (`baseImage`, which `iotedge check` builds from this machine's node binary; made when missing).
 * Nothing is pulled. Resolves to the names built.
 */
export async function buildDemoImages(
  engine: DockerEngine,
  signal: AbortSignal,
  baseImage = defaultDiagnosticsImageName(packageVersion()),
): Promise<string[]> {
  const base = await ensureDiagnosticsImage(engine, baseImage, signal, { version: packageVersion() });
  for (const { image, program } of DEMO_IMAGES)
    await buildNodeModuleImage(engine, { base, tag: image, entry: path.join(DEMO_DIR, program) });
  return DEMO_IMAGES.map(({ image }) => image);
}
