import { CloudToDeviceSender, type CloudToDeviceRequest } from './cloud-to-device.js';
import {
  ConnectionRegistry,
  type ClientIdentity,
  type ClientLink,
  type ConnectionEvents,
  type Subscription,
} from './connections.js';
import { storeLimitsOf, type EdgeHubDesired } from '../deployment/edgehub-desired.js';
import type { Endpoint } from './endpoints/endpoint.js';
import { storedEndpoints } from './endpoints/endpoint-factory.js';
import type { UpstreamEndpoint } from './endpoints/upstream.js';
import { memoryStores } from './endpoints/memory-store.js';
import type { MessageStores } from './endpoints/message-store.js';
import type { Authentication, IdentityRegistry } from './identities.js';
import type { HubMessage } from '../routing/message.js';
import { DEFAULT_PRIORITY } from '../routing/route-table.js';
import type { HubMetrics } from './metrics.js';
import { HubRequestError } from './hub-request-error.js';
import {
  MethodDispatcher,
  type InProcessMethodHandler,
  type MethodCall,
  type MethodResult,
} from './methods.js';
import type { MessageTap } from './monitor/tap.js';
import { Router, type RouterCounters } from './router.js';
import type { CloseReason } from './session/client-proxy.js';
import { DeviceSession, type SessionCore, type SessionOptions } from './session/device-session.js';
import { SessionStore } from './sessions.js';
import { twinChangeNotification } from './twin/twin-change.js';
import { TwinStore, type JsonObject } from './twin-store.js';
import { withoutMetadata } from './twin/twin-document.js';
import { mergePatch } from './twin/twin-json.js';
import { TwinPatchError, twinSectionSizeError } from './twin/reported-validation.js';
import {
  connectionLimitRefusal,
  DEFAULT_MAX_CONNECTED_CLIENTS,
} from '../deployment/max-connected-clients.js';

/** What a client presents to authenticate: a SAS token, or the certificate of its TLS handshake. */
export type Credentials = { sas: string } | { certificate: Buffer };

/** IoT Hub's limit on a message (body plus properties). */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

export interface EdgeHubOptions {
  identities: IdentityRegistry;
  twins?: TwinStore;
  /** Persistent sessions' subscriptions (kept in memory only when not given). */
  sessions?: SessionStore;
  /** Body plus properties; larger messages are refused (IoT Hub's 256 KiB). */
  maxMessageBytes?: number;
  /** Messages in flight to one module input at a time. */
  inputWindow?: number;
  /** Where endpoints keep their messages (in memory when not given); the caller closes them. */
  stores?: MessageStores;
  /** The runtime's version, reported as IoT Edge's edgeHub reports its own. */
  version?: string;
  /** Where routed messages are shown to watchers (`iotedge monitor`); it may outlive the hub. */
  tap?: MessageTap;
  now?: () => Date;
  log: (line: string) => void;
}

/** What `iotedge hub status` shows of the hub core (`GET /hub/status`). */
export interface HubCoreReport {
  /** The routes in effect, in the deployment's order. */
  routes: { name: string; route: string; priority: number | null; timeToLiveSecs: number }[];
  /** The clients connected now, by identity, with how and since when. */
  clients: { id: string; protocol: string | null; connectedSince: string | null }[];
  /** Since the hub (last) started; `unrouted` messages matched no route. */
  counters: {
    received: number;
    routed: number;
    unrouted: number;
    delivered: number;
    expired: number;
    evicted: number;
  };
}

export interface ClientRecord {
  status: 'Connected' | 'Disconnected';
  lastConnectedTimeUtc?: string;
  lastDisconnectedTimeUtc?: string;
}

/**
 * The Edge Hub's core, whatever the protocol: who is connected, where messages go, twins and
 * direct methods. A protocol head authenticates a client here, opens a DeviceSession for its
 * connection and turns its wire into calls on that session; nothing of the core is exposed.
 */
export class EdgeHub implements SessionCore {
  readonly maxMessageBytes: number;
  private readonly connections = new ConnectionRegistry();
  private readonly sessions: SessionStore;
  private readonly router: Router;
  private readonly methods: MethodDispatcher;
  private readonly cloudToDevice: CloudToDeviceSender;
  private readonly twins: TwinStore;
  private readonly stores: MessageStores;
  private readonly clients = new Map<string, ClientRecord>();
  private desired: EdgeHubDesired | undefined;
  private lastDesiredStatus = { code: 200, description: '' };
  /** Deployments applied since start, counted as the agent counts its lastDesiredVersion. */
  private lastDesiredVersion = 0;
  private readonly now: () => Date;
  /** Told of every reported patch saved, by identity id (the upstream link forwards them). */
  private readonly reportedListeners: ((identityId: string) => void)[] = [];
  private isoCache = { ms: Number.NaN, iso: '' };
  private twinReadGate: ((identityId: string) => Promise<void> | undefined) | undefined;
  private maxConnectedClients = DEFAULT_MAX_CONNECTED_CLIENTS;

  constructor(private readonly options: EdgeHubOptions) {
    this.now = options.now ?? (() => new Date());
    this.stores = options.stores ?? memoryStores();
    const endpoints = storedEndpoints({
      receivers: this.connections,
      stores: this.stores,
      inputWindow: options.inputWindow,
    });
    this.router = new Router(options.identities.deviceId, endpoints, options.tap);
    this.methods = new MethodDispatcher(this.connections);
    this.cloudToDevice = new CloudToDeviceSender(this.connections);
    this.twins = options.twins ?? new TwinStore();
    this.sessions = options.sessions ?? new SessionStore();
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.connections.on({
      connected: (identity) => {
        this.record(identity, 'Connected');
        // a client that keeps its session (and the SDK never subscribes again) hears what it missed
        this.notifyDesired(identity.id);
      },
      disconnected: (identity) => this.record(identity, 'Disconnected'),
    });
  }

  get deviceId(): string {
    return this.options.identities.deviceId;
  }

  get iothubHostname(): string {
    return this.options.identities.iothubHostname;
  }

  /**
   * Who a connecting client is, by the credentials it presents for `deviceId` (and `moduleId`);
   * with an `authChain` (nested edge) a child edge device's hub connects on behalf of that identity.
   * Every protocol head admits its connections here, so here the MaxConnectedClients limit refuses
   * a new identity once the hub is full (`full` set); one already connected may replace its
   * connection. Each identity a child edge device connects on behalf of counts as a client, as
   * edgeHub counts them.
   */
  async authenticate(
    deviceId: string,
    moduleId: string | undefined,
    credentials: Credentials,
    authChain?: string,
  ): Promise<Authentication> {
    const result = await this.verifyCredentials(deviceId, moduleId, credentials, authChain);
    if (!result.ok) return result;
    const refusal = connectionLimitRefusal(this.maxConnectedClients, this.connections, result.identity.id);
    // the head logs the refusal with its reason, which names the limit
    return refusal === undefined ? result : { ok: false, reason: refusal, full: true };
  }

  /** Who presents these credentials, for a request that opens no connection (no client limit). */
  async verifyCredentials(
    deviceId: string,
    moduleId: string | undefined,
    credentials: Credentials,
    authChain?: string,
  ): Promise<Authentication> {
    const { identities } = this.options;
    if (authChain !== undefined) {
      return 'sas' in credentials
        ? identities.onBehalfOf(deviceId, moduleId, authChain, credentials.sas)
        : { ok: false, reason: 'a connection on behalf of another identity authenticates with a SAS token' };
    }
    return 'sas' in credentials
      ? identities.authenticateSas(deviceId, moduleId, credentials.sas)
      : identities.authenticateCertificate(deviceId, moduleId, credentials.certificate);
  }

  /** The session of one authenticated connection; the head attaches it once the client is ready. */
  openSession(identity: ClientIdentity, options: SessionOptions): DeviceSession {
    return new DeviceSession(this, identity, options);
  }

  /** Invokes a direct method on a connected module or device (`device` or `device/module`). */
  invokeMethod(target: string, call: MethodCall): Promise<MethodResult> {
    return this.methods.invoke(target, call);
  }

  /**
   * Direct methods to `identityId` (`device/module`) are answered by `handler`, in-process, before
   * any connection is looked for; the returned function stops that.
   */
  serveMethods(identityId: string, handler: InProcessMethodHandler): () => void {
    return this.methods.serve(identityId, handler);
  }

  answerMethod(identityId: string, requestId: string, status: number, payload: Buffer): void {
    this.methods.respond(identityId, requestId, status, payload);
  }

  /** Relays a cloud-to-device message to a connected device; resolves once it completed it. */
  sendToDevice(deviceId: string, request: CloudToDeviceRequest): Promise<{ messageId: string }> {
    return this.cloudToDevice.send(deviceId, request);
  }

  /** Ends the connection of an identity, if it has one (removed, or given new credentials). */
  disconnect(identityId: string, reason: CloseReason = 'removed'): void {
    this.connections.get(identityId)?.close(reason);
  }

  /**
   * Devices were unregistered (here, or upstream for a child's identities from its parent): every
   * connection that their registrations admitted ends at once (see `endLostAdmissions`), and their
   * twins and their modules' twins go, as IoT Hub deletes them with the device.
   */
  forgetDevices(deviceIds: readonly string[]): string[] {
    if (deviceIds.length === 0) return [];
    const ended = this.endLostAdmissions();
    for (const deviceId of deviceIds) this.twins.removeDevice(deviceId);
    return ended;
  }

  /**
   * Ends every connection that would be refused if it connected now: a leaf device or child edge
   * device no longer registered, and the connections a child edge device keeps on behalf of an
   * identity no longer in its scope (removed, or below a removed edge device) or keeps as a removed
   * edge device. Returns the identities whose connection ended.
   */
  endLostAdmissions(): string[] {
    const ended: string[] = [];
    for (const link of [...this.connections.all()]) {
      const lost = this.options.identities.admissionLost(link.identity);
      if (lost === undefined) continue;
      this.options.log(`hub: ${link.identity.id}: its connection ends: ${lost}`);
      link.close('removed');
      ended.push(link.identity.id);
    }
    return ended;
  }

  sessionSubscriptions(sessionId: string, clean: boolean): Set<Subscription> {
    return this.sessions.open(sessionId, clean);
  }

  saveSession(sessionId: string): Promise<void> {
    return this.sessions.changed(sessionId);
  }

  connected(link: ClientLink): void {
    this.connections.add(link);
  }

  disconnected(link: ClientLink): void {
    this.connections.remove(link);
  }

  subscriptionsChanged(identityId: string): void {
    this.connections.changed(identityId);
    // a change of desired properties between the client's twin read and its subscription to
    // desired patches reaches it now, as the difference from what it read
    this.notifyDesired(identityId);
  }

  /**
   * Twin reads of an identity wait for what `gate` returns (the first read of its twin upstream,
   * on a child edge device), so a module that reads its twin at start sees upstream's desired
   * properties rather than an empty or stale copy.
   */
  gateTwinReads(gate: (identityId: string) => Promise<void> | undefined): void {
    this.twinReadGate = gate;
  }

  whenTwinCurrent(identityId: string): Promise<void> | undefined {
    return this.twinReadGate?.(identityId);
  }

  isConnected(identityId: string): boolean {
    return this.connections.get(identityId) !== undefined;
  }

  /** edgeHub's MaxConnectedClients (edgeHub itself included), from the deployment. */
  setMaxConnectedClients(limit: number): void {
    this.maxConnectedClients = limit;
  }

  get connectedClients(): number {
    return this.connections.size;
  }

  endpoints(): readonly Endpoint[] {
    return this.router.all();
  }

  /** `$upstream`: the upstream link attaches to it while it is connected. */
  get upstream(): UpstreamEndpoint {
    return this.router.upstream;
  }

  get routingCounters(): RouterCounters {
    return this.router.counters;
  }

  /** Switches metrics on (they are off until the deployment binds the metrics port). */
  useMetrics(metrics: HubMetrics): void {
    this.router.metrics = metrics;
  }

  log(line: string): void {
    this.options.log(line);
  }

  /**
   * Applies a deployment: its routes (already validated) and the desired properties of its modules.
   * Connected modules subscribed to desired updates get the change at once.
   */
  applyDeployment(desired: EdgeHubDesired | undefined, moduleTwins: Record<string, JsonObject>): void {
    this.desired = desired;
    if (desired) {
      this.router.apply(desired);
      this.stores.limit(storeLimitsOf(desired));
    }
    this.lastDesiredStatus = { code: 200, description: '' };
    this.lastDesiredVersion += 1;
    for (const [module, properties] of Object.entries(moduleTwins)) {
      if (module.startsWith('$')) continue;
      const id = `${this.options.identities.deviceId}/${module}`;
      this.twins.setDesired(id, properties);
      this.notifyDesired(id);
    }
  }

  /** Clients connecting and leaving (every protocol). */
  onClients(listener: Partial<ConnectionEvents>): void {
    this.connections.on(listener);
  }

  /** Called with the identity's id after each reported patch is saved. */
  onReportedSaved(listener: (identityId: string) => void): void {
    this.reportedListeners.push(listener);
  }

  /**
   * An identity's desired properties as upstream holds them: they replace the hub's copy, and a
   * connected client subscribed to them hears what changed.
   */
  setUpstreamDesired(identityId: string, desired: JsonObject): void {
    this.twins.setDesired(identityId, desired);
    this.notifyDesired(identityId);
  }

  /**
   * A deployment for a child edge device, as IoT Hub applies one: the desired properties of
   * `{deviceId}/$edgeAgent`, `{deviceId}/$edgeHub` and `{deviceId}/{module}` replaced (those of
   * modules no longer deployed cleared), saved, then sent to the child's connections subscribed to
   * them. Resolves to `$edgeAgent`'s desired version; a failed write is a HubRequestError 503.
   */
  async deployToDevice(deviceId: string, desired: Record<string, JsonObject>): Promise<number> {
    const changed = this.twins.replaceDeviceDesired(deviceId, desired);
    try {
      await this.twins.save();
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'a write error';
      throw new HubRequestError(503, `the deployment could not be saved (${reason}); try again later`);
    }
    for (const id of changed) this.notifyDesired(id);
    return this.twins.get(`${deviceId}/$edgeAgent`).desired.$version;
  }

  /**
   * A leaf device's desired properties changed from the service side, as IoT Hub's twin update does
   * it: `patch` merged in (a null removes a property), saved, then sent to the device if it listens.
   * Resolves to the new desired version; a failed write is a HubRequestError 503, desired properties
   * that would grow past IoT Hub's size limit a TwinPatchError (the twin unchanged).
   */
  async patchDeviceDesired(deviceId: string, patch: JsonObject): Promise<number> {
    const merged = mergePatch(withoutMetadata(this.twins.get(deviceId).desired), patch);
    const tooLarge = twinSectionSizeError('desired', merged);
    if (tooLarge) throw tooLarge;
    this.twins.setDesired(deviceId, merged);
    try {
      await this.twins.save();
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'a write error';
      throw new HubRequestError(503, `the twin could not be saved (${reason}); try again later`);
    }
    this.notifyDesired(deviceId);
    return this.twins.get(deviceId).desired.$version;
  }

  /** The reported properties of a twin kept here (without `$version`); `{}` when none arrived. */
  reportedOf(id: string): JsonObject {
    return withoutMetadata(this.twins.get(id).reported);
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
   * and fails with a HubRequestError 503 naming the OS error, never the file; one that would make
   * the reported properties too large is not applied and fails with a TwinPatchError.
   */
  async patchReported(identity: ClientIdentity, patch: JsonObject): Promise<number> {
    let version: number;
    try {
      version = await this.twins.patchReported(identity.id, patch);
    } catch (error) {
      if (error instanceof TwinPatchError) throw error;
      const reason = (error as NodeJS.ErrnoException).code ?? 'a write error';
      throw new HubRequestError(
        503,
        `the reported properties could not be saved (${reason}); try again later`,
      );
    }
    this.router.metrics.reportedProperties(identity.id);
    for (const listener of this.reportedListeners) listener(identity.id);
    await this.router.route(twinChangeNotification(identity, patch, version, this.now()));
    return version;
  }

  /** The routes in effect, who is connected, and what the router counted. */
  statusReport(): HubCoreReport {
    const { routed, dropped, delivered, expired, evicted } = this.router.counters;
    return {
      routes: (this.desired?.routes ?? []).map((route) => ({
        name: route.name,
        route: route.route.text,
        priority: route.priority === DEFAULT_PRIORITY ? null : route.priority,
        timeToLiveSecs: route.timeToLiveSecs,
      })),
      clients: [...this.connections.all()]
        .map((link) => ({
          id: link.identity.id,
          protocol: link.protocol ?? null,
          connectedSince: link.connectedAt?.toISOString() ?? null,
        }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      counters: { received: routed + dropped, routed, unrouted: dropped, delivered, expired, evicted },
    };
  }

  /** `$edgeHub` reported properties (as IoT Edge has it). */
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
    for (const link of [...this.connections.all()]) link.close('hub-closing');
  }

  private record(identity: ClientIdentity, status: ClientRecord['status']): void {
    const time = this.now().toISOString();
    this.options.log(`hub: ${identity.id} ${status.toLowerCase()}`);
    const previous = this.clients.get(identity.id);
    if (
      status === 'Disconnected' &&
      (identity.moduleId === undefined || identity.deviceId !== this.deviceId)
    ) {
      // leaf devices, and the identities of a child edge device, leave the list when they go; this
      // device's own modules stay as Disconnected
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
