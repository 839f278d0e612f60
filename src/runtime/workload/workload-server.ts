import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import http from 'node:http';

import { guardedListener } from '../http-guard.js';
import { workloadDirectory, workloadRoot, workloadSocket } from './socket-layout.js';
import { workloadRequestListener, type WorkloadContext } from './workload-api.js';

/**
 * One workload socket per module, `<homedir>/mnt/<module>/workload.sock`: the socket a module
 * reaches is how the API knows who calls. `<homedir>/mnt` is root's alone (0700); a module's own
 * directory is 0755 and its socket 0666, so that a container running as any user can use the
 * directory bound into it.
 */
export class WorkloadServers {
  private readonly servers = new Map<string, http.Server>();

  constructor(
    private readonly homedir: string,
    private readonly context: WorkloadContext,
    private readonly log: (line: string) => void,
  ) {}

  socketPath(module: string): string {
    return workloadSocket(this.homedir, module);
  }

  /** Serves the module's socket (idempotent); called before the module is created. */
  async ensure(module: string): Promise<void> {
    if (this.servers.has(module)) return;
    const root = workloadRoot(this.homedir);
    await mkdir(root, { recursive: true, mode: 0o700 });
    await chmod(root, 0o700);
    const directory = workloadDirectory(this.homedir, module);
    await mkdir(directory, { recursive: true, mode: 0o755 });
    await chmod(directory, 0o755);
    const socket = this.socketPath(module);
    await rm(socket, { force: true });
    const listener = workloadRequestListener(module, this.context, this.log);
    const server = http.createServer(guardedListener(`workload API of ${module}`, listener, this.log));
    this.servers.set(module, server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => resolve());
    });
    await chmod(socket, 0o666);
  }

  async remove(module: string): Promise<void> {
    const server = this.servers.get(module);
    if (!server) return;
    this.servers.delete(module);
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
    await rm(this.socketPath(module), { force: true });
  }

  /**
   * Serves no module but `deployed`: the others' servers stop and their directories go (also those
   * left on disk by an earlier run). Resolves with the modules whose socket was removed.
   */
  async retain(deployed: readonly string[]): Promise<string[]> {
    const wanted = new Set(deployed);
    const onDisk = await readdir(workloadRoot(this.homedir)).catch(() => [] as string[]);
    const present = new Set([...this.servers.keys(), ...onDisk]);
    const removed = [...present].filter((module) => !wanted.has(module));
    for (const module of removed) {
      await this.remove(module);
      await rm(workloadDirectory(this.homedir, module), { recursive: true, force: true });
    }
    return removed;
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((module) => this.remove(module)));
  }
}
