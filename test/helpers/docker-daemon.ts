import { after, before } from 'node:test';
import { BUSYBOX_IMAGE, busyboxMissing, ensureBusyboxImage } from './busybox-image.js';
import { TestDaemon, manifest } from './daemon.js';
import { DOCKER_URI, testEngine, uniqueName } from './docker.js';
import { holdTestLock } from './test-lock.js';

const { engine, skip: noEngine } = await testEngine();

/** Why tests of a daemon with Docker modules cannot run here, or false. */
export const dockerDaemonSkip: string | false = noEngine || busyboxMissing();

/**
 * For a describe block of a daemon with the Docker runtime: the daemon (started before, cleaned up
 * after, with the `docker-agent` lock held), a busybox image of its own (`<busybox>-<suffix>:1`,
 * removed after if this file made it) and a unique container name (its container removed after).
 */
export function dockerDaemonFixture(imageSuffix: string, namePrefix: string) {
  const daemon = new TestDaemon({}, ['moby_runtime:', `  uri: ${DOCKER_URI}`, '  network: host']);
  const image = `${BUSYBOX_IMAGE.split(':')[0]}-${imageSuffix}:1`;
  const name = uniqueName(namePrefix);
  let createdImage = false;
  let release: (() => Promise<void>) | undefined;
  before(async () => {
    release = await holdTestLock('docker-agent');
    createdImage = await ensureBusyboxImage(engine!, image);
    await daemon.start();
  });
  after(async () => {
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    await daemon.cleanup();
    await engine!.client
      .getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
    if (createdImage)
      await engine!.client
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
    await release?.();
  });
  return { daemon, image, name, engine: engine! };
}

/** A Docker module entry of a deployment: `script` run by the busybox shell of `image`, never pulled. */
export function shellModule(image: string, script: string, fields: Record<string, unknown> = {}) {
  return {
    type: 'docker',
    status: 'running',
    restartPolicy: 'always',
    imagePullPolicy: 'never',
    settings: { image, createOptions: JSON.stringify({ Cmd: ['/bin/sh', '-c', script] }) },
    ...fields,
  };
}
