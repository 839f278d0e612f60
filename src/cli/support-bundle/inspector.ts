import { readFile } from 'node:fs/promises';
import type { Settings } from '../../runtime/config/settings.js';
import { isEmbeddedModule } from '../../runtime/daemon/daemon-log-lines.js';
import type { ModuleDetails } from '../../runtime/daemon/management-types.js';
import type { DockerEngine } from '../../runtime/modules/docker/docker-engine.js';
import { DEFAULT_OWNER, OWNER_LABEL } from '../../runtime/modules/docker/labels.js';
import { ownedBy, ownershipEvidence } from '../../runtime/modules/docker/ownership.js';
import { modulePaths } from '../../runtime/modules/process/paths.js';
import { procInfo } from '../../runtime/modules/process/proc.js';

/**
 * Inspect data of modules: from the daemon's view of a module, its container (docker inspect) or
 * its process; without the daemon, the containers the runtime made, straight from the engine.
 */
export class Inspector {
  private engine: Promise<DockerEngine> | undefined;

  constructor(private readonly settings: Settings | undefined) {}

  /** A module as the daemon lists it, with its container or process. */
  async inspect(module: ModuleDetails): Promise<Record<string, unknown>> {
    if (isEmbeddedModule(module.name))
      return { module, embedded: 'runs inside iotedged (see logs/iotedged.txt)' };
    if (module.type === 'docker') return { module, container: await this.container(module.name) };
    return { module, process: await this.process(module.name) };
  }

  /**
   * The names of the module containers on the engine of config.yaml that belong to config.yaml's
   * daemon (its owner label and homedir, as the daemon lists them), for when the daemon cannot say which modules there are.
   */
  async moduleContainers(): Promise<string[]> {
    const { client } = await this.connect();
    const containers = await client.listContainers({
      all: true,
      filters: { label: [`${OWNER_LABEL}=${DEFAULT_OWNER}`] },
    });
    const homedir = this.settings!.homedir;
    return containers
      .filter((summary) => summary.State !== 'removing')
      .filter((summary) => ownedBy(ownershipEvidence(summary), DEFAULT_OWNER, homedir))
      .map((summary) => (summary.Names[0] ?? summary.Id).replace(/^\//, ''))
      .sort();
  }

  /** `docker inspect` of the container `name`. */
  async container(name: string): Promise<unknown> {
    const { client } = await this.connect();
    return client.getContainer(name).inspect();
  }

  private connect(): Promise<DockerEngine> {
    if (!this.settings) throw new Error('config.yaml could not be read: no container engine to ask');
    const uri = this.settings.moby_runtime.uri;
    this.engine ??= import('../../runtime/modules/docker/docker-engine.js').then((docker) =>
      docker.connectEngine(uri),
    );
    return this.engine;
  }

  /** The module's current or last run (run.json) and its program's process as /proc shows it. */
  private async process(name: string): Promise<unknown> {
    if (!this.settings) throw new Error('config.yaml could not be read: no module directory to read');
    const paths = modulePaths(this.settings.homedir, name);
    const run = JSON.parse(await readFile(paths.runRecord, 'utf8')) as { pid?: number };
    if (!run.pid) return { run };
    const [info, cmdline] = await Promise.all([
      procInfo(run.pid),
      readFile(`/proc/${run.pid}/cmdline`, 'utf8').catch(() => undefined),
    ]);
    return {
      run,
      proc: info
        ? { pid: run.pid, ...info, ...(cmdline ? { cmdline: cmdline.split('\0').filter(Boolean) } : {}) }
        : { pid: run.pid, running: false },
    };
  }
}
