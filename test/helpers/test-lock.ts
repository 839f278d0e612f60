import { open, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * What test files running in parallel must not use at the same time:
 * - `iothub-ports`: the SDK always reaches a gateway's methods on port 443 and its MQTT on 8883, so
 *   a hub serving SDK clients binds IoT Hub's own ports on loopback;
 * - `docker-agent`: an agent owns every container that carries its owner label on the engine, and
 *   removes those its deployment does not name, so two daemons on the shared engine would remove
 *   each other's modules.
 * Take several in this order (docker-agent first) so that two files never wait for each other.
 */
export type TestLock = 'docker-agent' | 'iothub-ports';

const lockFile = (name: TestLock) => path.join(os.tmpdir(), `iotedge-ts-test-${name}.lock`);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** A lock left by a test process that is gone (or died before writing its pid) may be taken over. */
async function stale(file: string): Promise<boolean> {
  const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (owner > 0) return !alive(owner);
  const age = await stat(file).then(
    (info) => Date.now() - info.mtimeMs,
    () => 0,
  );
  return age > 5_000;
}

/** Waits for the lock and takes it; resolves with the function that releases it. */
export async function holdTestLock(name: TestLock): Promise<() => Promise<void>> {
  const file = lockFile(name);
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (await stale(file)) await rm(file, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
