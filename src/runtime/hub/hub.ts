import { CloudToDeviceSender } from './cloud-to-device.js';
import { ConnectionRegistry, type ClientIdentity } from './connections.js';
import type { EdgeHubDesired } from './edgehub-desired.js';
import type { IdentityRegistry } from './identities.js';
import type { HubMessage } from './message.js';
import { HubRequestError } from './hub-request-error.js';
import { MethodDispatcher } from './methods.js';
import { Router } from './router.js';
import { twinChangeNotification } from './twin/twin-change.js';
import { TwinStore, type JsonObject } from './twin-store.js';

export interface EdgeHubOptions {
  identities: IdentityRegistry;
  twins?: TwinStore;
  /** Messages in flight to one module input at a time. */
  inputWindow?: number;
  /** The runtime's version, reported as IoT Edge's edgeHub reports its own. */
  version?: string;
  now?: () => Date;
  log: (line: string) => void;
}

export interface ClientRecord {
  status: 'Connected' | 'Disconnected';
  lastConnectedTimeUtc?: string;
  lastDisconnectedTimeUtc?: string;
}

/**
 * The Edge Hub's core, whatever the protocol: who is connected, where messages go, twins and
 * direct methods. Protocol heads (MQTT now, AMQP later) translate their wire format into calls here.
 */
export class EdgeHub {
  readonly connections = new ConnectionRegistry();
  readonly router: Router;
  readonly methods: MethodDispatcher;
  readonly cloudToDevice: CloudToDeviceSender;
  readonly twins: TwinStore;
  private readonly clients = new Map<string, ClientRecord>();
  private desired: EdgeHubDesired | undefined;
  private lastDesiredStatus = { code: 200, description: '' };
  /** Deployments applied since start, counted as the agent counts its lastDesiredVersion. */
  private lastDesiredVersion = 0;
  private readonly now: () => Date;
  private isoCache = { ms: Number.NaN, iso: '' };

  constructor(private readonly options: EdgeHubOptions) {
    this.now = options.now ?? (() => new Date());
    this.router = new Router(options.identities.deviceId, this.connections, options.inputWindow);
    this.methods = new MethodDispatcher(this.connections);
    this.cloudToDevice = new CloudToDeviceSender(this.connections);
    this.twins = options.twins ?? new TwinStore();
    this.connections.on({
      connected: (identity) => {
        this.record(identity, 'Connected');
        // a client that keeps its session (and the SDK never subscribes again) hears what it missed
        this.notifyDesired(identity.id);
      },
      disconnected: (identity) => this.record(identity, 'Disconnected'),
    });
  }

  get identities(): IdentityRegistry {
    return this.options.identities;
  }

  /**
   * Applies a deployment: its routes (already validated) and the desired properties of its modules.
   * Connected modules subscribed to desired updates get the change at once.
   */
  applyDeployment(desired: EdgeHubDesired | undefined, moduleTwins: Record<string, JsonObject>): void {
    this.desired = desired;
    if (desired) this.router.apply(desired);
    this.lastDesiredStatus = { code: 200, description: '' };
    this.lastDesiredVersion += 1;
    for (const [module, properties] of Object.entries(moduleTwins)) {
      if (module.startsWith('$')) continue;
      const id = `${this.options.identities.deviceId}/${module}`;
      this.twins.setDesired(id, properties);
      this.notifyDesired(id);
    }
  }

  private notifyDesired(id: string): void {
    const link = this.connections.get(id);
    if (!link?.subscriptions.has('desired')) return;
    const change = this.twins.desiredToNotify(id);
    if (change) link.sendDesiredPatch(change.patch, change.version);
  }

  /** Routes telemetry; resolves when every endpoint holds it (then the client may be acknowledged). */
  telemetry(message: HubMessage): Promise<number> {
    message.systemProperties.enqueuedTime ??= this.isoNow();
    return this.router.route(message);
  }

  getTwin(identity: ClientIdentity): { desired: JsonObject; reported: JsonObject } {
    this.router.metrics.getTwin(identity.id);
    this.twins.markNotified(identity.id);
    return this.twins.get(identity.id);
  }

  /**
   * Merges a reported patch (validated by the caller) and routes the twin change notification.
   * Resolves once the patch is saved; a patch that could not be saved (a full disk) is not applied
   * and fails with a HubRequestError 503 naming the OS error, never the file.
   */
  async patchReported(identity: ClientIdentity, patch: JsonObject): Promise<number> {
    let version: number;
    try {
      version = await this.twins.patchReported(identity.id, patch);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'a write error';
      throw new HubRequestError(
        503,
        `the reported properties could not be saved (${reason}); try again later`,
      );
    }
    this.router.metrics.reportedProperties(identity.id);
    await this.router.route(twinChangeNotification(identity, patch, version, this.now()));
    return version;
  }

  /** `$edgeHub` reported properties (reference edge-runtime.md §3.7). */
  reported(): Record<string, unknown> {
    const escape = (id: string) => id.replace(/\./g, '%2E').replace(/\$/g, '%24').replace(/ /g, '%20');
    return {
      schemaVersion: '1.0',
      ...(this.options.version ? { version: { version: this.options.version } } : {}),
      ...(this.lastDesiredVersion > 0 ? { lastDesiredVersion: this.lastDesiredVersion } : {}),
      lastDesiredStatus: this.lastDesiredStatus,
      ...(this.desired
        ? { routes: Object.fromEntries(this.desired.routes.map((r) => [r.name, r.route.text])) }
        : {}),
      clients: Object.fromEntries([...this.clients].map(([id, record]) => [escape(id), record])),
    };
  }

  /** Now as ISO 8601, formatted once per millisecond (thousands of messages share one). */
  private isoNow(): string {
    const ms = this.now().getTime();
    if (ms !== this.isoCache.ms) this.isoCache = { ms, iso: new Date(ms).toISOString() };
    return this.isoCache.iso;
  }

  close(): void {
    this.methods.close();
    this.router.close();
    for (const link of [...this.connections.all()]) link.close();
  }

  private record(identity: ClientIdentity, status: ClientRecord['status']): void {
    const time = this.now().toISOString();
    this.options.log(`hub: ${identity.id} ${status.toLowerCase()}`);
    const previous = this.clients.get(identity.id);
    if (status === 'Disconnected' && identity.moduleId === undefined) {
      // leaf devices leave the list when they go; modules stay as Disconnected
      this.clients.delete(identity.id);
      return;
    }
    this.clients.set(identity.id, {
      ...previous,
      status,
      ...(status === 'Connected' ? { lastConnectedTimeUtc: time } : { lastDisconnectedTimeUtc: time }),
    });
  }
}
