import { existsSync } from 'node:fs';

import type Dockerode from 'dockerode';

import { connectEngine, engineSocketPath } from './docker-engine.js';
import {
  ModuleNotFoundError,
  type DockerSettings,
  type LogLine,
  type LogOptions,
  type ModuleEvent,
  type ModuleRuntime,
  type ModuleSpec,
  type ModuleState,
} from '../types.js';
import { workloadDirectory } from '../../workload/socket-layout.js';
import { moduleStateOf, type InspectedContainer } from './container-state.js';
import { buildCreateOptions } from './create-options.js';
import { engineCall } from './engine-call.js';
import { EventWatch } from './event-watch.js';
import { ensureImage } from './image-pull.js';
import type { RegistryCredential } from './image-ref.js';
import { DEFAULT_OWNER, HOMEDIR_LABEL, OWNER_LABEL } from './labels.js';
import { homedirLabelValue, ownedBy, ownershipEvidence } from './ownership.js';
import { DockerLogDecoder, lastLines } from './log-decoder.js';

export interface DockerRuntimeOptions {
  /** moby_runtime.uri, e.g. unix:///var/run/docker.sock. */
  uri: string;
  /** moby_runtime.network: where modules without their own network settings are attached ('host' is valid). */
  network: string;
  homedir: string;
  /** allow_elevated_docker_permissions. */
  allowElevated: boolean;
  /** Value of the owner label that marks our containers. */
  owner?: string;
  /** Registry credentials (manifest registryCredentials and config.yaml agent auth), read at each pull. */
  credentials?: () => RegistryCredential[];
  /** Pull progress and event-stream trouble; never receives secrets. */
  log?: (message: string) => void;
}

type Stream = NodeJS.ReadableStream & { destroy?: () => void };

/** Modules as Docker containers, through dockerode against moby_runtime.uri. */
export class DockerRuntime implements ModuleRuntime {
  private readonly owner: string;
  private readonly target: { uri: string; socketPath: string };
  private client?: Promise<Dockerode>;
  private readonly stopRequested = new Set<string>();
  private readonly listeners: ((event: ModuleEvent) => void)[] = [];
  private events?: EventWatch;
  private closed = false;

  constructor(private readonly options: DockerRuntimeOptions) {
    this.owner = options.owner ?? DEFAULT_OWNER;
    this.target = { uri: options.uri, socketPath: engineSocketPath(options.uri) };
  }

  async list(): Promise<ModuleState[]> {
    const docker = await this.docker();
    const containers = await this.call('list containers', undefined, () =>
      docker.listContainers({ all: true, filters: { label: [`${OWNER_LABEL}=${this.owner}`] } }),
    );
    const states: ModuleState[] = [];
    for (const summary of containers) {
      // A container being removed is on its way out: the agent must neither count nor remove it.
      if (summary.State === 'removing') continue;
      // Another daemon's (its own homedir) on the same engine: never this agent's to adopt or remove.
      if (!this.owns(summary)) continue;
      const name = (summary.Names[0] ?? '').replace(/^\//, '');
      try {
        const inspected = await this.call(`inspect ${name}`, name, () =>
          docker.getContainer(summary.Id).inspect(),
        );
        states.push(moduleStateOf(name, inspected as InspectedContainer, this.stopRequested.has(name)));
      } catch (error) {
        // removed between the listing and the inspection: it is simply gone
        if (!(error instanceof ModuleNotFoundError)) throw error;
      }
    }
    return states.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async create(spec: ModuleSpec, env: Record<string, string>): Promise<void> {
    if (spec.type !== 'docker')
      throw new Error(`module ${spec.name}: the docker runtime cannot run type "${spec.type}"`);
    const settings = spec.settings as DockerSettings;
    if (typeof settings.image !== 'string' || settings.image.trim() === '') {
      throw new Error(`module ${spec.name}: settings.image must be a non-empty string`);
    }
    const directory = workloadDirectory(this.options.homedir, spec.name);
    let body: Record<string, unknown>;
    try {
      body = buildCreateOptions(settings.createOptions ?? {}, {
        name: spec.name,
        image: settings.image,
        configHash: spec.configHash,
        owner: this.owner,
        homedir: this.options.homedir,
        env,
        network: this.options.network,
        allowElevated: this.options.allowElevated,
        workloadDirectory: existsSync(directory) ? directory : undefined,
      });
    } catch (error) {
      throw new Error(`module ${spec.name}: ${(error as Error).message}`);
    }
    const docker = await this.docker();
    await this.ensureImage(docker, spec);
    await this.call(`create module ${spec.name}`, undefined, () =>
      docker.createContainer({ ...body, name: spec.name } as Dockerode.ContainerCreateOptions),
    );
    this.stopRequested.delete(spec.name);
  }

  async prepare(spec: ModuleSpec): Promise<void> {
    await this.ensureImage(await this.docker(), spec);
  }

  private ensureImage(docker: Dockerode, spec: ModuleSpec): Promise<void> {
    return ensureImage(docker, this.target, {
      module: spec.name,
      image: (spec.settings as DockerSettings).image,
      policy: spec.imagePullPolicy,
      credentials: this.options.credentials?.() ?? [],
      log: this.options.log,
    });
  }

  async start(name: string): Promise<void> {
    const container = await this.ours(name);
    this.stopRequested.delete(name);
    await this.call(`start module ${name}`, name, async () => {
      try {
        await container.start();
      } catch (error) {
        // 304: already running
        if ((error as { statusCode?: number }).statusCode !== 304) throw error;
      }
    });
  }

  async stop(name: string, graceMs: number): Promise<void> {
    const container = await this.ours(name);
    this.stopRequested.add(name);
    await this.call(`stop module ${name}`, name, async () => {
      try {
        await container.stop({ t: Math.max(0, Math.ceil(graceMs / 1000)) });
      } catch (error) {
        // 304: not running
        if ((error as { statusCode?: number }).statusCode !== 304) throw error;
      }
    });
  }

  async remove(name: string): Promise<void> {
    const container = await this.ours(name);
    try {
      await this.call(`remove module ${name}`, name, () => container.remove({ force: true }));
    } catch (error) {
      // Someone else's removal of the same container is already under way: the outcome is the same.
      if (!/already in progress/i.test((error as Error).message)) throw error;
    }
    this.stopRequested.delete(name);
  }

  async *logs(name: string, options: LogOptions, signal?: AbortSignal): AsyncIterable<LogLine> {
    const container = await this.ours(name);
    const inspected = (await this.call(`inspect ${name}`, name, () => container.inspect())) as {
      Config?: { Tty?: boolean };
    };
    const decoder = new DockerLogDecoder(!inspected.Config?.Tty);
    // The engine applies tail before since/until; LogOptions wants it after, so a windowed read is tailed here.
    const tailHere =
      !options.follow &&
      options.tail !== undefined &&
      (options.since !== undefined || options.until !== undefined);
    const request: Record<string, unknown> = {
      stdout: true,
      stderr: true,
      timestamps: true,
      follow: !!options.follow,
    };
    if (options.tail !== undefined && !tailHere) request.tail = options.tail;
    if (options.since !== undefined) request.since = options.since;
    if (options.until !== undefined) request.until = options.until;
    if (signal) request.abortSignal = signal;
    if (signal?.aborted) return;
    const body = await this.call(`logs of ${name}`, name, () =>
      container.logs(request as unknown as Dockerode.ContainerLogsOptions & { follow: false }),
    );
    if (Buffer.isBuffer(body)) {
      yield* lastLines([...decoder.push(body), ...decoder.end()], tailHere ? options.tail : undefined);
      return;
    }
    const stream = body as unknown as Stream & AsyncIterable<Buffer>;
    const abort = () => stream.destroy?.();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      for await (const chunk of stream) yield* decoder.push(chunk);
      yield* decoder.end();
    } catch (error) {
      if (!signal?.aborted) throw error;
    } finally {
      signal?.removeEventListener('abort', abort);
      stream.destroy?.();
    }
  }

  onEvent(listener: (event: ModuleEvent) => void): void {
    this.listeners.push(listener);
    if (this.client) this.watchEvents();
  }

  /**
   * Follows the engine's events once the runtime is in use (its client exists), not at
   * subscription: an agent that never runs a container never loads the Docker client.
   */
  private watchEvents(): void {
    if (this.events || this.closed || this.listeners.length === 0) return;
    this.events = new EventWatch(
      {
        open: async (since) => {
          const docker = await this.docker();
          const filters = {
            type: ['container'],
            label: [`${OWNER_LABEL}=${this.owner}`],
            event: ['die', 'start', 'health_status'],
          };
          return (await this.call('follow engine events', undefined, () =>
            docker.getEvents({
              filters,
              ...(since !== undefined ? { since } : {}),
            } as Dockerode.GetEventsOptions),
          )) as unknown as Stream;
        },
      },
      {
        accept: (attributes) => this.eventIsOurs(attributes),
        emit: (event) => {
          for (const each of this.listeners) each(event);
        },
        warn: this.options.log,
      },
    );
    this.events.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events?.stop();
    this.events = undefined;
  }

  private docker(): Promise<Dockerode> {
    if (this.closed) return Promise.reject(new Error('the docker module runtime is closed'));
    if (!this.client) {
      const connecting = connectEngine(this.options.uri).then((engine) => engine.client);
      this.client = connecting;
      connecting.then(
        () => this.watchEvents(),
        () => undefined,
      );
      connecting.catch(() => {
        if (this.client === connecting) this.client = undefined;
      });
    }
    return this.client;
  }

  private call<T>(what: string, name: string | undefined, work: () => Promise<T>): Promise<T> {
    return engineCall(this.target, what, name, work);
  }

  private owns(container: Parameters<typeof ownershipEvidence>[0]): boolean {
    return ownedBy(ownershipEvidence(container), this.owner, this.options.homedir);
  }

  /**
   * An engine event of a container that names another daemon's homedir is not this runtime's (the
   * engine filters on the owner label already; a container older than the homedir label passes).
   */
  private eventIsOurs(attributes: Record<string, string>): boolean {
    const home = attributes[HOMEDIR_LABEL];
    return home === undefined || home === homedirLabelValue(this.options.homedir);
  }

  /**
   * The container of module `name`, refusing containers that carry another owner (or none), or
   * another daemon's homedir.
   */
  private async ours(name: string): Promise<Dockerode.Container> {
    const docker = await this.docker();
    const container = docker.getContainer(name);
    const inspected = (await this.call(`inspect ${name}`, name, () =>
      container.inspect(),
    )) as InspectedContainer & Parameters<typeof ownershipEvidence>[0];
    if (inspected.Config?.Labels?.[OWNER_LABEL] !== this.owner) {
      throw new Error(
        `container ${name} is not a module of this runtime (its ${OWNER_LABEL} label is not ${this.owner})`,
      );
    }
    if (!this.owns(inspected)) {
      throw new Error(
        `container ${name} belongs to another iotedged on this container engine (its ${HOMEDIR_LABEL} label is not ${homedirLabelValue(this.options.homedir)})`,
      );
    }
    return docker.getContainer((inspected as { Id?: string }).Id ?? name);
  }
}
