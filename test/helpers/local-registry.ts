import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REGISTRY = '/usr/bin/docker-registry';
const HTPASSWD = '/usr/bin/htpasswd';

/** A Docker registry (Debian's docker-registry) on 127.0.0.1 with htpasswd authentication. */
export interface LocalRegistry {
  /** host:port, which the engine treats as an insecure (plain HTTP) registry since it is loopback. */
  address: string;
  stop(): Promise<void>;
}

/** Why a local registry cannot run here, or false. */
export const registryMissing = (): string | false => {
  if (!existsSync(REGISTRY)) return `${REGISTRY} is missing (apt-get install docker-registry)`;
  if (!existsSync(HTPASSWD)) return `${HTPASSWD} is missing (apt-get install apache2-utils)`;
  return false;
};

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

export async function startLocalRegistry(username: string, password: string): Promise<LocalRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'iotedge-test-registry-'));
  const hashed = spawnSync(HTPASSWD, ['-Bbn', username, password], { encoding: 'utf8' });
  if (hashed.status !== 0) throw new Error(`htpasswd failed: ${hashed.stderr}`);
  await writeFile(join(dir, 'htpasswd'), hashed.stdout);
  const port = await freePort();
  const config = [
    'version: 0.1',
    'log: { level: error }',
    `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }`,
    `http: { addr: 127.0.0.1:${port} }`,
    `auth: { htpasswd: { realm: iotedge-test, path: ${join(dir, 'htpasswd')} } }`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn(REGISTRY, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the local registry did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { address: `127.0.0.1:${port}`, stop };
}
