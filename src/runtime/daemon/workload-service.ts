import type { EdgeCa } from '../identity/certificates/edge-ca.js';
import { Serial } from '../serial.js';
import { WorkloadServers } from '../workload/workload-server.js';

export interface WorkloadServiceOptions {
  homedir: string;
  device: { deviceId: string; iothubHostname: string; deviceKey?: string };
  /** Module generation ids, as the agent keeps them (undefined once a module has left). */
  generationId(module: string): Promise<string | undefined>;
  /** The CA module certificates are issued from. */
  edgeCa: { edgeCa(): Promise<EdgeCa> };
  /** Told of each module whose socket went because it left the deployment. */
  onRemoved(module: string): void;
  log(line: string): void;
}

/**
 * The daemon's workload API: one socket per deployed module, served whatever the hub does (a hub
 * restart leaves it alone). A module's socket is made before the module is created, and every
 * accepted deployment keeps the sockets of its modules only.
 */
export class WorkloadService {
  private readonly servers: WorkloadServers;
  /** One deployment at a time, so that two accepted together cannot interleave their changes. */
  private readonly serial = new Serial();

  constructor(private readonly options: WorkloadServiceOptions) {
    const { device } = options;
    this.servers = new WorkloadServers(
      options.homedir,
      {
        deviceId: device.deviceId,
        iothubHostname: device.iothubHostname,
        deviceKey: () => device.deviceKey,
        generationId: (module) => options.generationId(module),
        edgeCa: () => options.edgeCa.edgeCa(),
        now: () => new Date(),
      },
      options.log,
    );
  }

  /** Serves the module's socket (idempotent): the module binds it when it is created. */
  ensure(module: string): Promise<void> {
    return this.servers.ensure(module);
  }

  /**
   * An accepted deployment's modules: each has its socket; a module that left the deployment loses
   * its socket and directory at once, and `onRemoved` is told (the agent has already forgotten its
   * identity, so it cannot connect again).
   */
  deploy(modules: readonly string[]): Promise<void> {
    return this.serial.run(async () => {
      for (const module of await this.servers.retain(modules)) this.options.onRemoved(module);
      for (const module of modules) await this.servers.ensure(module);
    });
  }

  /** Stops serving every socket. */
  close(): Promise<void> {
    return this.serial.run(() => this.servers.close());
  }
}
