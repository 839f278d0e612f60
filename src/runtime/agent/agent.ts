import { newGenerationId } from '../identity/module-keys.js';
import type { ModuleRuntime, ModuleSpec, ModuleState, RuntimeStatus } from '../modules/types.js';
import { canonicalJson } from '../deployment/config-hash.js';
import { deferUnprepared } from './defer.js';
import { deploymentChanges, type DeploymentChanges } from './deployment-changes.js';
import { DeploymentError, malformed } from '../deployment/deployment-error.js';
import {
  accepted,
  APPLIED,
  NOT_RUNNING,
  reconciled,
  rejected,
  type DeploymentStatus,
} from './deployment-status.js';
import { executePlan } from './executor.js';
import {
  parseDeployment,
  reportedRuntimeSettings,
  type Deployment,
  type DeploymentLimits,
} from '../deployment/manifest.js';
import { moduleEnvironment, type ModuleEnvContext } from './module-env.js';
import { describePlan, nextWakeUp, plan } from './plan.js';
import { Preparation } from './preparation.js';
import { buildReported } from './reported.js';
import { DEFAULT_TUNING, effectiveStatus, type AgentTuning, type RestartStats } from './restart-policy.js';
import { AgentStore } from './store.js';
import { LOCAL, nextOrigin, type DeploymentOrigin, type UpstreamVersions } from './deployment-origin.js';

export interface AgentOptions {
  runtimes: Partial<Record<ModuleSpec['type'], ModuleRuntime>>;
  store: AgentStore;
  envContext: Omit<ModuleEnvContext, 'generationId'>;
  /** IOTEDGE_GATEWAYHOSTNAME when it depends on the hub's port (the static context holds the default). */
  gatewayHostname?: () => string;
  agentVersion: string;
  daemonVersion: string;
  /** Image recorded for edgeAgent until a deployment names one (config.yaml agent.config.image). */
  agentImage: string;
  tuning?: AgentTuning;
  /** What a deployment may ask of this device (default: DEFAULT_LIMITS). */
  limits?: DeploymentLimits;
  periodMs?: number;
  stopGraceMs?: number;
  commandTimeoutMs?: number;
  /** Told of every deployment the agent accepts (at start and on deploy): the embedded hub applies it. */
  onDeployment?: (deployment: Deployment) => Promise<void>;
  /** The embedded Edge Hub's state, reported as the edgeHub system module's. */
  hubStatus?: () => { status: RuntimeStatus; description: string; startTime?: Date };
  /**
   * The deployment of the agent's config source when it has one (IoT Edge's ConfigSource=local,
   * a file): read again when the agent restarts. Without it, the agent restarts from its stored one.
   */
  configSource?: () => Promise<unknown>;
  /** Runs before a module is created (the workload socket it binds must exist by then). */
  beforeCreate?: (spec: ModuleSpec) => Promise<void>;
  /** How long a failed image pull waits before it is tried again (a new deployment retries at once). */
  prepareRetryMs?: number;
  now?: () => Date;
  log: (line: string) => void;
}

/** The answer to a deployment: the reported properties and, when it was accepted, what it changes. */
export interface DeployResult {
  code: number;
  reported: Record<string, unknown>;
  changes?: DeploymentChanges;
  /** The config source holds another deployment, which will replace this one when the agent restarts. */
  sourceDiffers?: boolean;
}

export interface ModuleView {
  spec?: ModuleSpec;
  state?: ModuleState;
  status: RuntimeStatus;
  /** Why a module that has no container or process yet is not running. */
  description?: string;
}

/**
 * The Edge Agent: holds the deployment, reconciles the runtimes towards it (periodically and at
 * once when a module exits), and reports. One reconcile at a time; a request during one runs
 * another right after.
 */
export class Agent {
  private deployment: Deployment | undefined;
  private lastDesiredStatus: DeploymentStatus = APPLIED;
  private lastDesiredVersion: number | undefined;
  /** Where the running deployment came from. */
  private deploymentOrigin: DeploymentOrigin = LOCAL;
  private readonly stats = new Map<string, RestartStats>();
  /** The modules the previous reconcile planned for, so a status change can be told from an exit. */
  private planned: ModuleSpec[] | undefined;
  private states = new Map<string, ModuleState>();
  private readonly holders = new Map<string, ModuleRuntime>();
  /** Runtimes whose last list() failed, so the failure is logged once, not every round. */
  private readonly unreachable = new Map<string, string>();
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private startTime: Date;
  private readonly tuning: AgentTuning;
  private readonly now: () => Date;
  private readonly preparation: Preparation;
  /** Modules whose creation waits for a preparation, from the last reconcile. */
  private waiting = new Map<string, 'preparing' | 'earlier-group'>();

  constructor(private readonly options: AgentOptions) {
    this.tuning = options.tuning ?? DEFAULT_TUNING;
    this.now = options.now ?? (() => new Date());
    this.startTime = this.now();
    this.preparation = new Preparation({
      runtimeFor: (type) => options.runtimes[type],
      onSettled: () => this.schedule(0),
      now: this.now,
      retryMs: options.prepareRetryMs ?? 30_000,
      log: options.log,
    });
  }

  async start(initialDocument?: unknown): Promise<void> {
    for (const runtime of Object.values(this.options.runtimes)) {
      runtime?.onEvent(() => this.schedule(0));
    }
    const stored = initialDocument === undefined ? await this.options.store.loadStored() : undefined;
    const saved = initialDocument ?? stored?.document;
    if (saved !== undefined) {
      try {
        this.deployment = parseDeployment(saved, this.options.limits);
        this.deploymentOrigin = stored?.origin ?? LOCAL;
        this.lastDesiredVersion = desiredVersionOf(this.deploymentOrigin, 0);
      } catch (error) {
        this.recordRejection(error);
      }
    }
    if (this.deployment) {
      await this.retainIdentities(this.deployment);
      await this.announce(this.deployment);
    }
    await this.reconcile();
  }

  /**
   * What restarting edgeAgent means for the embedded agent: it reads its deployment again (from
   * its config source, else the one it stored) and applies it as a new one, then reconciles. A
   * source that cannot be read fails the restart and changes nothing.
   */
  async restart(): Promise<void> {
    this.options.log('agent: restarting: reading the deployment again');
    const local = await this.options.configSource?.();
    const stored = local === undefined ? await this.options.store.loadStored() : undefined;
    this.startTime = this.now();
    if (local !== undefined) await this.deploy(local);
    else if (stored === undefined) await this.reconcile();
    else
      await this.deploy(
        stored.document,
        stored.origin.source === 'upstream' && stored.origin.upstream ? stored.origin.upstream : 'local',
      );
  }

  /** Where the running deployment came from (local, or upstream with its desired versions). */
  get origin(): DeploymentOrigin {
    return this.deploymentOrigin;
  }

  /**
   * Validates and applies a manifest; a rejected one leaves the previous deployment running. An
   * upstream one reports its `$edgeAgent` desired version as lastDesiredVersion, as IoT Edge does.
   */
  async deploy(document: unknown, source: UpstreamVersions | 'local' = 'local'): Promise<DeployResult> {
    if (this.stopped)
      return {
        code: 406,
        reported: { ...this.reported(), lastDesiredStatus: NOT_RUNNING },
      };
    let deployment: Deployment;
    try {
      deployment = parseDeployment(document, this.options.limits);
      await this.checkOnHost(deployment);
    } catch (error) {
      this.recordRejection(error);
      if (source !== 'local') this.lastDesiredVersion = source.edgeAgent;
      return { code: this.lastDesiredStatus.code, reported: this.reported() };
    }
    const changes = deploymentChanges(this.deployment, deployment);
    const origin = nextOrigin(this.deploymentOrigin, source);
    await this.options.store.saveDeployment(document, origin);
    this.deployment = deployment;
    this.deploymentOrigin = origin;
    this.lastDesiredVersion = desiredVersionOf(origin, this.lastDesiredVersion ?? 0);
    this.lastDesiredStatus = accepted();
    this.preparation.retryFailures();
    await this.retainIdentities(deployment);
    await this.announce(deployment);
    await this.reconcile();
    // the caller hears how the pulls went; supervision goes on meanwhile (pulls run outside reconcile)
    const names = deployment.modules.map((spec) => spec.name);
    await this.preparation.whenSettled(names, this.options.commandTimeoutMs ?? 120_000);
    if (names.some((name) => this.waiting.has(name))) await this.reconcile();
    const sourceDiffers = await this.sourceDiffers(document);
    return { code: this.lastDesiredStatus.code, reported: this.reported(), changes, sourceDiffers };
  }

  /** Whether the config source holds a deployment other than `document` (one it cannot read does not count). */
  private async sourceDiffers(document: unknown): Promise<boolean> {
    const source = await this.options.configSource?.().catch(() => undefined);
    return source !== undefined && canonicalJson(source) !== canonicalJson(document);
  }

  /** What only the runtimes can tell (a process module's user exists): a problem is a 400 naming the field. */
  private async checkOnHost(deployment: Deployment): Promise<void> {
    for (const spec of deployment.modules) {
      const problem = await this.options.runtimes[spec.type]?.check?.(spec);
      if (problem) throw malformed(`modules.${spec.name}.${problem.field}`, problem.problem);
    }
  }

  /** Modules that left the deployment lose their identity at once, before the hub applies it. */
  private async retainIdentities(deployment: Deployment): Promise<void> {
    const names = deployment.modules.map((spec) => spec.name);
    const forgotten = await this.options.store.retain(names, () => newGenerationId(this.now()));
    if (forgotten.length > 0) this.options.log(`agent: identities removed: ${forgotten.join(', ')}`);
  }

  private async announce(deployment: Deployment): Promise<void> {
    try {
      await this.options.onDeployment?.(deployment);
    } catch (error) {
      this.options.log(`agent: the embedded hub could not apply the deployment: ${(error as Error).message}`);
    }
  }

  private recordRejection(error: unknown): void {
    if (!(error instanceof DeploymentError)) throw error;
    this.lastDesiredStatus = rejected(error);
    this.options.log(`agent: deployment rejected (${error.code}): ${error.message}`);
  }

  /** Runs one reconcile now (or right after the current one) and resolves when it is done. */
  reconcile(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.reconcileOnce();
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.reconcile().catch((error: unknown) =>
        this.options.log(`agent: reconcile failed: ${(error as Error).stack ?? String(error)}`),
      );
    }, delayMs);
  }

  /**
   * What every runtime holds. A runtime that cannot answer (container engine down) contributes
   * nothing this round; the others are still supervised, and commands for its modules fail (500).
   */
  /**
   * Process modules are always watched; another runtime only while the deployment, or the one
   * before it, has modules of its type. A device that runs no containers then never loads the
   * Docker client (some 27 MiB) nor polls an engine it does not use.
   */
  private inUse(type: string): boolean {
    if (type === 'process') return true;
    const uses = (modules: readonly ModuleSpec[] | undefined) =>
      modules?.some((spec) => spec.type === type) ?? false;
    return uses(this.deployment?.modules) || uses(this.planned);
  }

  private async observe(): Promise<ModuleState[]> {
    const current: ModuleState[] = [];
    this.holders.clear();
    for (const [type, runtime] of Object.entries(this.options.runtimes)) {
      if (!runtime || !this.inUse(type)) continue;
      let states: ModuleState[];
      try {
        states = await runtime.list();
        this.unreachable.delete(type);
      } catch (error) {
        const message = (error as Error).message;
        if (!this.unreachable.has(type)) this.options.log(`agent: ${type} runtime: ${message}`);
        this.unreachable.set(type, message);
        continue;
      }
      for (const state of states) {
        current.push(state);
        this.holders.set(state.name, runtime);
      }
    }
    this.states = new Map(current.map((state) => [state.name, state]));
    return current;
  }

  private async reconcileOnce(): Promise<void> {
    if (this.stopped) return;
    const current = await this.observe();
    // Modules of a runtime that cannot be reached are left alone until it answers again.
    const desired = (this.deployment?.modules ?? []).filter((spec) => !this.unreachable.has(spec.type));
    const blocked = (this.deployment?.modules ?? []).filter((spec) => this.unreachable.has(spec.type));
    const planned = plan(current, desired, this.stats, this.now(), this.tuning, this.planned);
    this.planned = desired;
    const { groups: commands, waiting } = deferUnprepared(
      planned,
      (spec) => this.preparation.readiness(spec).kind === 'ready',
    );
    this.waiting = waiting;
    let failures: string[] = [];
    if (commands.some((group) => group.length > 0)) {
      this.options.log(`agent: ${describePlan(commands)}`);
      failures = await executePlan(commands, {
        runtimeFor: (type) => this.runtimeFor(type),
        runtimeOf: (name) => this.holders.get(name) ?? this.runtimeFor(this.specOf(name)?.type ?? 'process'),
        environmentFor: (spec) => this.environmentFor(spec),
        stats: this.stats,
        now: this.now,
        stopGraceMs: this.options.stopGraceMs ?? 10_000,
        commandTimeoutMs: this.options.commandTimeoutMs ?? 120_000,
        log: this.options.log,
      });
      await this.observe();
    }
    if (this.deployment) {
      this.lastDesiredStatus = reconciled(this.lastDesiredStatus, {
        problems: [...failures, ...this.preparationFailures()],
        blocked: blocked.map((spec) => ({
          module: spec.name,
          reason: `${spec.type} runtime: ${this.unreachable.get(spec.type)}`,
        })),
      });
    }
    const wake = nextWakeUp([...this.states.values()], desired, this.stats, this.now(), this.tuning);
    const periodMs = this.options.periodMs ?? 5_000;
    this.schedule(wake ? Math.min(Math.max(wake.getTime() - this.now().getTime(), 0), periodMs) : periodMs);
  }

  private preparationFailures(): string[] {
    return [...this.waiting.keys()].flatMap((name) => {
      const readiness = this.preparation.peek(name);
      return readiness?.kind === 'failed' ? [readiness.message] : [];
    });
  }

  /** Status and description of a module that the deployment names but no runtime holds yet. */
  private notCreatedView(spec: ModuleSpec): Pick<ModuleView, 'status' | 'description'> {
    const readiness = this.preparation.peek(spec.name);
    if (readiness?.kind === 'failed') return { status: 'failed', description: readiness.message };
    const reason = this.waiting.get(spec.name);
    if (reason === 'earlier-group')
      return { status: 'unknown', description: 'waiting for modules with a lower startupOrder' };
    if (reason === 'preparing') {
      const image = 'image' in spec.settings ? ` ${spec.settings.image}` : '';
      return { status: 'unknown', description: `pulling image${image}` };
    }
    return { status: 'unknown' };
  }

  private specOf(name: string): ModuleSpec | undefined {
    return this.deployment?.modules.find((spec) => spec.name === name);
  }

  private runtimeFor(type: ModuleSpec['type']): ModuleRuntime {
    const runtime = this.options.runtimes[type];
    if (!runtime) {
      throw new Error(
        `${type} modules need a ${type === 'docker' ? 'container engine (moby_runtime.uri)' : 'runtime'}`,
      );
    }
    return runtime;
  }

  private async environmentFor(spec: ModuleSpec): Promise<Record<string, string>> {
    const generationId = await this.options.store.generationId(spec.name, () => newGenerationId(this.now()));
    await this.options.beforeCreate?.(spec);
    const gatewayHostname = this.options.gatewayHostname?.() ?? this.options.envContext.gatewayHostname;
    return moduleEnvironment(spec, { ...this.options.envContext, gatewayHostname, generationId });
  }

  /** Every module the deployment names or a runtime holds, with its effective status. */
  modules(): Map<string, ModuleView> {
    const views = new Map<string, ModuleView>();
    for (const spec of this.deployment?.modules ?? []) {
      const state = this.states.get(spec.name);
      views.set(spec.name, {
        spec,
        state,
        ...(state
          ? { status: effectiveStatus(spec, state, this.stats.get(spec.name), this.tuning) }
          : this.notCreatedView(spec)),
      });
    }
    for (const state of this.states.values()) {
      if (!views.has(state.name)) views.set(state.name, { state, status: state.status });
    }
    return views;
  }

  get edgeHubSpec(): ModuleSpec | undefined {
    return this.deployment?.systemModules.edgeHub;
  }

  get agentImage(): string {
    return this.deployment?.systemModules.edgeAgent.image ?? this.options.agentImage;
  }

  get startedAt(): Date {
    return this.startTime;
  }

  runtimeHolding(name: string): ModuleRuntime | undefined {
    return this.holders.get(name);
  }

  /** Registry credentials of the applied deployment (runtime.settings.registryCredentials). */
  registryCredentials(): { address: string; username: string; password: string }[] {
    return Object.values(this.deployment?.runtime.settings.registryCredentials ?? {});
  }

  identities(): Promise<Record<string, string>> {
    return this.options.store.identities();
  }

  reported(): Record<string, unknown> {
    const views = this.modules();
    return buildReported({
      agentVersion: this.options.agentVersion,
      daemonVersion: this.options.daemonVersion,
      lastDesiredVersion: this.lastDesiredVersion,
      lastDesiredStatus: this.lastDesiredStatus,
      runtimeSettings: this.deployment ? reportedRuntimeSettings(this.deployment) : {},
      agentImage: this.agentImage,
      agentStartTime: this.startTime,
      edgeHub: this.edgeHubSpec,
      edgeHubStatus: this.options.hubStatus?.(),
      modules: this.deployment?.modules ?? [],
      states: this.states,
      statuses: new Map([...views].map(([name, view]) => [name, view.status])),
      descriptions: new Map(
        [...views].flatMap(([name, view]) => (view.description ? [[name, view.description]] : [])),
      ),
      stats: this.stats,
    });
  }

  /** Stops supervising, then stops every module gracefully (SIGTERM, then SIGKILL after the grace). */
  async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    const grace = this.options.stopGraceMs ?? 10_000;
    await Promise.all(
      [...this.holders.entries()].map(([name, runtime]) =>
        runtime
          .stop(name, grace)
          .catch((error: unknown) => this.options.log(`agent: stop ${name}: ${String(error)}`)),
      ),
    );
  }
}

/** lastDesiredVersion after applying a deployment: upstream's `$edgeAgent` version, else one more. */
function desiredVersionOf(origin: DeploymentOrigin, previous: number): number {
  return origin.source === 'upstream' && origin.upstream ? origin.upstream.edgeAgent : previous + 1;
}
