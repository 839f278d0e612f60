import { connectEngine } from '../runtime/modules/docker/docker-engine.js';
import { buildDemoImages } from './module-images.js';

/**
 * `npm run demo:images`: the demo modules as local Docker images, from the engine at DOCKER_HOST
 * (a unix:// socket) or /var/run/docker.sock. A failure is one line and exit code 1.
 */
const uri = process.env.DOCKER_HOST?.startsWith('unix://')
  ? process.env.DOCKER_HOST
  : 'unix:///var/run/docker.sock';
try {
  const engine = await connectEngine(uri);
  for (const image of await buildDemoImages(engine, AbortSignal.timeout(600_000)))
    console.log(`built ${image}`);
} catch (error) {
  console.error(`demo:images: ${(error as Error).message}`);
  process.exitCode = 1;
}
