/**
 * The module model shared by the agent (planner, executor), the module runtimes (process, docker)
 * and the management API. Names follow IoT Edge's (module status, restart policy, image pull
 * policy).
 */

/** Thrown by every module runtime when asked about a module it does not have. */
export class ModuleNotFoundError extends Error {
  constructor(readonly moduleName: string) {
    super(`module not found: ${moduleName}`);
    this.name = 'ModuleNotFoundError';
  }
}

export type DesiredStatus = 'running' | 'stopped';
export type RestartPolicy = 'never' | 'on-failure' | 'on-unhealthy' | 'always';
export type ImagePullPolicy = 'on-create' | 'never';

/** What the agent reports: the raw runtime state refined by restart policy. */
export type RuntimeStatus = 'running' | 'stopped' | 'failed' | 'backoff' | 'unhealthy' | 'dead' | 'unknown';

/** What a ModuleRuntime observes (no `backoff`: that is the agent's judgement). */
export type ObservedStatus = 'running' | 'stopped' | 'failed' | 'unhealthy' | 'dead' | 'unknown';

export type HealthProbe =
  | {
      type: 'command';
      command: string;
      args: string[];
      intervalSecs: number;
      timeoutSecs: number;
      failureThreshold: number;
    }
  | { type: 'http'; url: string; intervalSecs: number; timeoutSecs: number; failureThreshold: number };

/** `"type": "process"` modules: a plain program supervised by iotedged (no container engine). */
export interface ProcessSettings {
  command: string;
  args: string[];
  /** Working directory; default: the module's directory under <homedir>/modules/<name>. */
  cwd?: string;
  /**
   * Whom the program (and a command health probe) runs as: a user name or `uid[:gid]`, resolved
   * when the deployment arrives and again at each start; default: iotedged's own user.
   */
  user?: string;
  healthProbe?: HealthProbe;
}

export interface DockerSettings {
  image: string;
  /** Parsed Docker ContainerCreate body (createOptions and createOptions01..NN joined). */
  createOptions: Record<string, unknown>;
}

/** One desired module, validated from a deployment manifest. */
export interface ModuleSpec {
  name: string;
  type: 'process' | 'docker';
  status: DesiredStatus;
  restartPolicy: RestartPolicy;
  imagePullPolicy: ImagePullPolicy;
  startupOrder: number;
  version: string;
  /** User environment from the manifest (`env.NAME.value`). */
  env: Record<string, string>;
  settings: ProcessSettings | DockerSettings;
  /**
   * Stable hash of everything that requires a recreate when it changes (all but `status`):
   * the runtime stores it with the module so the planner can tell an update from a status change.
   */
  configHash: string;
}

/** A module as its runtime sees it. */
export interface ModuleState {
  name: string;
  type: 'process' | 'docker';
  status: ObservedStatus;
  /** The configHash the module was created from. */
  configHash: string;
  exitCode?: number;
  startTime?: Date;
  exitTime?: Date;
  /** Why it is in this state, e.g. the OS error when the command could not start. */
  statusDescription?: string;
  /** For docker modules: the image; shown in `iotedge list` CONFIG. */
  image?: string;
  pid?: number;
  /** The last exit followed a stop request (daemon shutdown, `iotedge restart`), not the program's own choice. */
  stopRequested?: boolean;
}

export interface LogOptions {
  /** Last N lines only (applied after since/until). */
  tail?: number;
  /** Unix seconds; lines written before are skipped. */
  since?: number;
  /** Unix seconds; lines written after are skipped. */
  until?: number;
  follow?: boolean;
  timestamps?: boolean;
}

/** One log line with when it was written and on which stream. */
export interface LogLine {
  time: Date;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface ModuleEvent {
  name: string;
  kind: 'started' | 'exited' | 'health';
}

/**
 * A way to run modules (child processes, or Docker containers). The agent plans against
 * `list()` and drives the rest; the runtime reports exits at once through `onEvent`.
 */
export interface ModuleRuntime {
  list(): Promise<ModuleState[]>;
  /** Creates (does not start) the module with its full environment. Replaces nothing: remove first. */
  create(spec: ModuleSpec, env: Record<string, string>): Promise<void>;
  /**
   * Gets what create needs and may take long to get (a container image). The agent runs it
   * outside the reconcile loop and creates the module only once it has succeeded.
   */
  prepare?(spec: ModuleSpec): Promise<void>;
  /**
   * Checks, when a deployment arrives, what only the host can tell (that a process module's user
   * exists). Resolves with the field (relative to the module, e.g. `settings.user`) and the
   * problem, or undefined when the module can be run.
   */
  check?(spec: ModuleSpec): Promise<{ field: string; problem: string } | undefined>;
  start(name: string): Promise<void>;
  /** SIGTERM (or engine stop), then SIGKILL after graceMs. */
  stop(name: string, graceMs: number): Promise<void>;
  remove(name: string): Promise<void>;
  logs(name: string, options: LogOptions, signal?: AbortSignal): AsyncIterable<LogLine>;
  onEvent(listener: (event: ModuleEvent) => void): void;
  close(): Promise<void>;
}
