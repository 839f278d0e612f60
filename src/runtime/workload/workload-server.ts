import { chmod, mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

import { workloadRequestListener, type WorkloadContext } from './workload-api.js';

/**
 * One workload socket per module, `<homedir>/mnt/<module>.sock`: the socket a module reaches is
 * how the API knows who calls. The directory is root's alone (0700); the sockets are 0666 so that a
 * container running as any user can use the socket bound into it.
 */
export class WorkloadServers {
  private readonly servers = new Map<string, http.Server>();
  private readonly directory: string;

  constructor(
    homedir: string,
    private readonly context: WorkloadContext,
    private readonly log: (line: string) => void,
  ) {
    this.directory = path.join(homedir, 'mnt');
  }

  socketPath(module: string): string {
    return path.join(this.directory, `${module}.sock`);
  }

  /** Serves the module's socket (idempotent); called before the module is created. */
  async ensure(module: string): Promise<void> {
    if (this.servers.has(module)) return;
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    await chmod(this.directory, 0o700);
    const socket = this.socketPath(module);
    await rm(socket, { force: true });
    const listener = workloadRequestListener(module, this.context, this.log);
    const server = http.createServer((request, response) => void listener(request, response));
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

  async close(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((module) => this.remove(module)));
  }
}
