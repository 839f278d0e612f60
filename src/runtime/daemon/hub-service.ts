import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

import type { Deployment } from '../deployment/manifest.js';
import type { Settings } from '../config/settings.js';
import type { HubServerCertificate } from '../identity/certificates/server-cert.js';
import type { DeviceScopeSource } from '../hub/http/device-scope-api.js';
import { HttpsHead } from '../hub/http/https-head.js';
import { metricsServer } from '../hub/http/metrics-server.js';
import { SqliteMessageStores } from '../hub/endpoints/sqlite/sqlite-stores.js';
import { EdgeHub } from '../hub/hub.js';
import { IdentityRegistry } from '../hub/identities.js';
import { LeafDeviceRegistry } from '../hub/leaf-devices.js';
import { MessageTap } from '../hub/monitor/tap.js';
import { hubBindings, sameBinding, type Binding } from '../deployment/listen-ports.js';
import { AmqpHead } from '../hub/amqp-head/head.js';
import { MqttHead } from '../hub/mqtt-head/head.js';
import type { Wire } from '../hub/mqtt-head/wire.js';
import type { ProtocolHead } from '../hub/protocol-head.js';
import { SessionStore } from '../hub/sessions.js';
import type { TwinObject } from '../hub/twin/twin-json.js';
import { TwinStore } from '../hub/twin-store.js';
import { packageVersion } from '../../version.js';
import { Serial } from '../serial.js';
import { guardConnections, type ConnectionGuardOptions } from './connection-guard.js';
import type { ServerCertificateSource } from './edge-ca-service.js';
import { watchTrafficForHeap } from './heap-mode-watch.js';
import { listenerGuards, listenerLimitsFromEnv, type ListenerLimits } from './listener-limits.js';
import { closeListener, listen, type Listener } from './tls-listener.js';
import {
  listenPreferringRemembered,
  readRememberedPorts,
  rememberedPortsFile,
  writeRememberedPorts,
  type RememberedPorts,
} from './remembered-ports.js';
import { parseUpstreamProtocol } from '../deployment/upstream-protocol.js';
import { parseMaxConnectedClients } from '../deployment/max-connected-clients.js';
import { openDeviceScope, openUpstream, type UpstreamReport } from './upstream-service.js';
import type { ScopeIdentities } from '../hub/scope-identities.js';
import type { InProcessMethodHandler } from '../hub/methods.js';
import type { ManagedChannel } from '../hub/upstream/managed-channel.js';
import { IdentityChannels } from '../hub/upstream/identity-channels.js';

export interface HubServiceOptions {
  settings: Settings;
  device: { deviceId: string; iothubHostname: string; deviceKey?: string };
  /** Module generation ids, as the agent keeps them. */
  generationId(module: string): Promise<string | undefined>;
  wire: Wire;
  /** The hub's TLS server certificate, which the daemon's edge CA issues and renews. */
  certificates: ServerCertificateSource;
  log(line: string): void;
  /** The upstream refused this device's own identity. */
  onDeviceRefused?(reason: string): void;
}

export interface HubStatus {
  status: 'running' | 'stopped' | 'failed';
  description: string;
  startTime?: Date;
}

type PlainListener = { binding: Binding; server: http.Server };

/** What outlives a restart of the hub: its stores and who may connect. */
interface HubStores {
  twins: TwinStore;
  sessions: SessionStore;
  leaves: LeafDeviceRegistry;
  /** A child's identities from its parent; none without a parent. */
  scope: ScopeIdentities | undefined;
  identities: IdentityRegistry;
  /** Routed messages shown to `iotedge monitor`, across restarts of the hub. */
  tap: MessageTap;
}

/** One EdgeHub with its protocol heads and its message stores; a restart replaces them. */
interface HubCore {
  hub: EdgeHub;
  messages: SqliteMessageStores;
  heads: ProtocolHead[];
  stopHeapWatch(): void;
  upstream: ReturnType<typeof openUpstream>;
  /** A child edge device's modules and leaf devices, managed from upstream. */
  identityChannels?: IdentityChannels;
}

/** Loads the stores under `<homedir>/hub` (twins, persistent sessions, leaf devices). */
async function loadStores(options: HubServiceOptions): Promise<HubStores> {
  const { settings, device, log } = options;
  const dir = path.join(settings.homedir, 'hub');
  const twins = new TwinStore(path.join(dir, 'twins.json'), log);
  const sessions = new SessionStore(path.join(dir, 'sessions.json'), log);
  const leaves = new LeafDeviceRegistry(path.join(dir, 'devices.json'), device.deviceId);
  const scope = openDeviceScope({
    settings,
    device,
    trustBundlePem: () => options.certificates.serverCertificate.trustBundlePem,
    file: path.join(dir, 'scope-identities.json'),
    log,
  });
  await Promise.all([twins.load(), sessions.load(), leaves.reload(), scope?.load()]);
  const identities = new IdentityRegistry({
    deviceId: device.deviceId,
    iothubHostname: device.iothubHostname,
    edgeHostname: settings.hostname,
    deviceKey: device.deviceKey,
    generationId: options.generationId,
    leafDevices: leaves,
    ...(scope ? { scopeIdentities: scope } : {}),
    now: () => new Date(),
  });
  return { twins, sessions, leaves, scope, identities, tap: new MessageTap() };
}

/**
 * A fresh EdgeHub and its heads (MQTT, HTTPS) over the stores, which outlive them (twins, sessions,
 * devices), and over the message database `<homedir>/hub/messages.db`, opened again each time.
 */
async function openCore(
  stores: HubStores,
  options: Pick<HubServiceOptions, 'wire' | 'settings' | 'device' | 'certificates' | 'log'> & {
    connectTimeoutMs: number;
  },
): Promise<HubCore> {
  const { log } = options;
  const messages = new SqliteMessageStores({ file: messageDatabasePath(options.settings.homedir), log });
  const hub = new EdgeHub({
    identities: stores.identities,
    tap: stores.tap,
    twins: stores.twins,
    sessions: stores.sessions,
    stores: messages,
    version: packageVersion(),
    log,
  });
  let mqtt: MqttHead;
  try {
    mqtt = await MqttHead.create({
      hub,
      wire: options.wire,
      connectTimeoutMs: options.connectTimeoutMs,
      log,
    });
  } catch (error) {
    hub.close();
    messages.close();
    throw error;
  }
  const counters = hub.routingCounters;
  const stopHeapWatch = watchTrafficForHeap(() => counters.routed + counters.dropped, log);
  const { scope } = stores;
  const upstream = openUpstream(
    {
      ...options,
      trustBundlePem: () => options.certificates.serverCertificate.trustBundlePem,
      // a refusal may mean the parent removed the identity: the scope is asked again (throttled)
      ...(scope ? { onIdentityRefused: (id: string) => void scope.refreshForRefused(id) } : {}),
    },
    hub.upstream,
  );
  const { settings } = options;
  const identityChannels =
    'link' in upstream && settings.parent_hostname
      ? new IdentityChannels(hub, upstream.link, log, {
          desiredFromUpstream: settings.agent.env.ConfigSource?.toLowerCase() !== 'local',
        })
      : undefined;
  const amqp = new AmqpHead({ hub, connectTimeoutMs: options.connectTimeoutMs, log });
  return {
    hub,
    messages,
    heads: [
      mqtt,
      amqp,
      new HttpsHead(hub, { identities: stores.identities, devices: knownDevices(stores) }, log, {
        mqtt: mqtt.handle,
        amqp: amqp.handle,
      }),
    ],
    stopHeapWatch,
    upstream,
    ...(identityChannels ? { identityChannels } : {}),
  };
}

/**
 * The devices this hub knows: its own registrations, then (a child) those learnt from its parent,
 * so that a child of a child asks it for its scope as it asks its own parent.
 */
function knownDevices({ leaves, scope }: HubStores): DeviceScopeSource['devices'] {
  return {
    get: (deviceId) => leaves.get(deviceId) ?? scope?.get(deviceId),
    list: () => [...leaves.list(), ...(scope?.list() ?? []).filter((device) => !leaves.get(device.deviceId))],
  };
}

/** Where the hub keeps the messages its endpoints hold. */
export const messageDatabasePath = (homedir: string) => path.join(homedir, 'hub', 'messages.db');

/**
 * The Edge Hub as iotedged embeds it: a listener for each of the hub's protocol heads on the host
 * port the deployment's edgeHub entry binds for it, serving the server certificate the daemon's edge CA issues
 * (a renewed one is used at once).
 */
export class HubService {
  private core: HubCore;
  /** Whether `core` is up (a restart closes it, and one that fails to open again leaves it closed). */
  private opened = true;
  /** The last deployment applied, which a restart applies again. */
  private deployment: { deployment: Deployment; fromUpstream: boolean } | undefined;
  /** The listener of each head, by the binding it serves. */
  private readonly listeners = new Map<ProtocolHead['binding'], Listener>();
  private metrics: PlainListener | undefined;
  private state: HubStatus = { status: 'stopped', description: 'no deployment yet' };
  private readonly serial = new Serial();
  private closed = false;
  /** Deadlines and connection caps of the listeners. */
  private readonly guards: Record<'mqtt' | 'https' | 'amqp' | 'metrics', ConnectionGuardOptions>;
  private readonly stopCertificates: () => void;
  /** Identities kept connected upstream, handed to each new link (a restart makes a new one). */
  private readonly managed = new Set<ManagedChannel>();
  /** Modules of this device served in-process (`$edgeAgent`), handed to each new hub. */
  private readonly served = new Map<string, InProcessMethodHandler>();

  private constructor(
    private readonly options: HubServiceOptions,
    private readonly stores: HubStores,
    /** Deadlines and connection caps (environment variables, for tests). */
    private readonly limits: ListenerLimits,
    core: HubCore,
  ) {
    this.core = core;
    this.guards = listenerGuards(limits, options.log);
    this.stopCertificates = options.certificates.onServerCertificate((certificate) =>
      this.useCertificate(certificate),
    );
    if (stores.scope) {
      // identities the parent no longer lists (or lists with new credentials) are disconnected,
      // unless registered here too (the local registration is the one they connected with)
      stores.scope.onChanged = (ids) => this.devicesChanged(ids.filter((id) => !stores.leaves.get(id)));
      stores.scope.start();
    }
  }

  /** Loads the hub's stores and opens it; it listens once a deployment binds its ports. */
  static async create(options: HubServiceOptions): Promise<HubService> {
    const limits = listenerLimitsFromEnv(process.env);
    const stores = await loadStores(options);
    const core = await openCore(stores, { ...options, connectTimeoutMs: limits.connectMs });
    return new HubService(options, stores, limits, core);
  }

  get edgeHub(): EdgeHub {
    return this.core.hub;
  }

  /** Where routed messages are shown to watchers (`iotedge monitor`). */
  get tap(): MessageTap {
    return this.stores.tap;
  }

  get status(): HubStatus {
    return this.state;
  }

  /** The upstream link (`iotedge system status`). */
  upstreamStatus(): UpstreamReport {
    const { upstream } = this.core;
    return 'link' in upstream
      ? upstream.link.status()
      : { target: 'none', protocol: 'MQTT', connected: false, lastError: upstream.problem };
  }

  /**
   * Keeps `channel`'s identity connected to the upstream (a parent edge device) to hear from it and
   * report to it, across restarts of the hub; no-op without an upstream link.
   */
  manageUpstream(channel: ManagedChannel): void {
    this.managed.add(channel);
    if ('link' in this.core.upstream) this.core.upstream.link.manage(channel);
  }

  /**
   * Direct methods to this device's `moduleId` are answered by `handler` in-process (the agent is
   * embedded in the daemon and keeps no connection), across restarts of the hub.
   */
  serveMethods(moduleId: string, handler: InProcessMethodHandler): void {
    this.served.set(moduleId, handler);
    this.core.hub.serveMethods(`${this.options.device.deviceId}/${moduleId}`, handler);
  }

  releaseUpstream(channel: ManagedChannel): void {
    this.managed.delete(channel);
    if ('link' in this.core.upstream) this.core.upstream.link.release(channel);
  }

  /** The leaf devices registered with this gateway (`<homedir>/hub/devices.json`). */
  get leafDevices(): LeafDeviceRegistry {
    return this.stores.leaves;
  }

  /** The bound MQTT, AMQP and HTTPS ports (useful when the deployment asked for port 0). */
  ports(): { mqtt?: number; https?: number; amqp?: number; metrics?: number } {
    const port = (listener?: { server: net.Server }) =>
      (listener?.server.address() as AddressInfo | null)?.port;
    return {
      mqtt: port(this.listeners.get('mqtt')),
      https: port(this.listeners.get('https')),
      amqp: port(this.listeners.get('amqp')),
      metrics: port(this.metrics),
    };
  }

  /**
   * How modules reach the hub: config.yaml `hostname`, with the MQTT port when it is not 8883 (the
   * SDK accepts `host:port` for MQTT; its HTTPS method calls always go to port 443).
   */
  gatewayHostname(): string {
    const port = this.ports().mqtt;
    const hostname = this.options.settings.hostname;
    return port === undefined || port === 8883 ? hostname : `${hostname}:${port}`;
  }

  /**
   * The devices this hub authenticates besides its own identities: its registrations, then (a
   * child) the identities learnt from its parent.
   */
  get knownDevices(): DeviceScopeSource['devices'] {
    return knownDevices(this.stores);
  }

  /**
   * Registrations changed (here, or upstream for a child's identities from its parent): a device
   * given new credentials is disconnected (it connects again with them); a device no longer known
   * is forgotten: every connection its registration admitted ends, those a child edge device keeps
   * on its behalf or for what lies below it included, and its twins go.
   */
  devicesChanged(deviceIds: readonly string[]): void {
    const known = knownDevices(this.stores);
    const rekeyed = deviceIds.filter((deviceId) => known.get(deviceId) !== undefined);
    for (const deviceId of rekeyed) this.core.hub.disconnect(deviceId);
    this.core.hub.forgetDevices(deviceIds.filter((deviceId) => !rekeyed.includes(deviceId)));
  }

  /** Ends the live connection of a module of this device (one that left the deployment). */
  disconnectModule(module: string): void {
    this.core.hub.disconnect(`${this.options.device.deviceId}/${module}`);
  }

  /** Opens a new core over the stores after a restart closed the previous one. */
  private async openHub(): Promise<void> {
    this.core = await openCore(this.stores, { ...this.options, connectTimeoutMs: this.limits.connectMs });
    this.opened = true;
    const { upstream } = this.core;
    if ('link' in upstream) for (const channel of this.managed) upstream.link.manage(channel);
    for (const [moduleId, handler] of this.served)
      this.core.hub.serveMethods(`${this.options.device.deviceId}/${moduleId}`, handler);
  }

  /** Ends every client connection and listener, and saves what the stores hold. */
  private async closeHub(): Promise<void> {
    this.opened = false;
    this.core.stopHeapWatch();
    this.core.identityChannels?.close();
    if ('link' in this.core.upstream) this.core.upstream.link.stop();
    this.core.hub.close();
    this.core.messages.close();
    await this.stopListeners();
    await this.serveMetrics(undefined);
    await Promise.all(this.core.heads.map((head) => head.close()));
    await Promise.all([this.stores.twins.flush(), this.stores.sessions.flush()]);
  }

  /**
   * What restarting edgeHub means for the embedded hub: its listeners and client connections end
   * (clients reconnect, as when the daemon restarts: twins, persistent MQTT sessions and leaf
   * devices are kept, and so are the messages its endpoints hold: their database is closed and opened
   * again), and it starts again from
   * the last deployment. The workload API and the edge CA are not the hub's and go on serving.
   */
  restart(): Promise<void> {
    return this.serial.run(async () => {
      if (this.closed) throw new Error('the Edge Hub is shutting down');
      this.options.log('hub: restarting: closing listeners and client connections');
      await this.closeHub();
      this.state = { status: 'stopped', description: 'restarting' };
      try {
        await this.openHub();
      } catch (error) {
        this.state = { status: 'failed', description: `could not start again: ${(error as Error).message}` };
        this.options.log(`hub: ${this.state.description}`);
        throw error;
      }
      if (this.deployment) await this.applyNow(this.deployment.deployment, this.deployment.fromUpstream);
      if (this.state.status === 'failed') throw new Error(this.state.description);
    });
  }

  /** The listeners serve a renewed server certificate to the clients that connect from now on. */
  private useCertificate(certificate: HubServerCertificate): void {
    const context = { key: certificate.privateKeyPem, cert: certificate.chainPem };
    for (const listener of this.listeners.values()) listener.server.setSecureContext(context);
  }

  /**
   * Applies a deployment the agent accepted: routes, module twins, listeners. One at a time: the
   * deployment at start and one posted meanwhile would otherwise both bind listeners (and leak one).
   * A deployment from upstream carries no module twins: those come from upstream, module by module.
   */
  apply(deployment: Deployment, fromUpstream = false): Promise<void> {
    return this.serial.run(async () => {
      if (!this.closed) await this.applyNow(deployment, fromUpstream);
    });
  }

  private async applyNow(deployment: Deployment, fromUpstream: boolean): Promise<void> {
    this.deployment = { deployment, fromUpstream };
    if (!this.opened) await this.openHub();
    const moduleTwins = fromUpstream
      ? {}
      : (Object.fromEntries(
          deployment.modules.map((spec) => [spec.name, deployment.moduleTwins[spec.name] ?? {}]),
        ) as Record<string, TwinObject>);
    this.core.hub.applyDeployment(deployment.edgeHub, moduleTwins);
    const maxClients = parseMaxConnectedClients(deployment.systemModules.edgeHub.env);
    if (typeof maxClients === 'number') this.core.hub.setMaxConnectedClients(maxClients);
    const protocol = parseUpstreamProtocol(deployment.systemModules.edgeHub.env);
    if ('link' in this.core.upstream && typeof protocol !== 'object')
      this.core.upstream.link.requestProtocol(protocol);
    const hubSpec = deployment.systemModules.edgeHub;
    if (hubSpec.status !== 'running') {
      await this.stopListeners();
      this.state = { status: 'stopped', description: 'edgeHub is stopped in the deployment' };
      return;
    }
    const createOptions = 'image' in hubSpec.settings ? hubSpec.settings.createOptions : undefined;
    const bindings = hubBindings(createOptions);
    const portsFile = rememberedPortsFile(this.options.settings.homedir);
    const remembered = await readRememberedPorts(portsFile);
    try {
      const served = this.core.heads.filter((head) => bindings[head.binding] !== undefined);
      for (const head of this.core.heads) {
        const binding = bindings[head.binding];
        const current = this.listeners.get(head.binding);
        if (binding === undefined || !sameBinding(current?.binding, binding)) {
          this.listeners.delete(head.binding);
          await closeListener(current);
        }
        if (binding === undefined || sameBinding(current?.binding, binding)) continue;
        const listener = await listenPreferringRemembered(binding, remembered[head.binding], (bound) =>
          listen(bound, head.server(this.tlsOptions()), this.guards[head.binding]),
        );
        // kept as the deployment asked (port 0 stays 0), so that the same deployment keeps the listener
        this.listeners.set(head.binding, { ...listener, binding });
      }
      await this.serveMetrics(bindings.metrics, remembered.metrics);
      const ports = this.ports();
      await this.rememberPorts(portsFile, remembered, ports);
      if (this.state.status !== 'running')
        this.state = { status: 'running', description: '', startTime: new Date() };
      this.state.description = [
        ...served.map((head) => `${head.name} on ${bindings[head.binding]!.host}:${ports[head.binding]}`),
        ...(bindings.metrics ? [`metrics on ${bindings.metrics.host}:${ports.metrics}`] : []),
      ].join(', ');
      this.options.log(`hub: ${this.state.description}`);
    } catch (error) {
      this.state = { status: 'failed', description: (error as Error).message };
      this.options.log(`hub: ${this.state.description}`);
    }
  }

  /** Prometheus metrics, when the deployment binds edgeHub's 9600/tcp (prom-client loads then). */
  private async serveMetrics(binding: Binding | undefined, remembered?: number): Promise<void> {
    if (sameBinding(this.metrics?.binding, binding ?? { host: '', port: -1 })) return;
    if (this.metrics) {
      const { server } = this.metrics;
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    }
    this.metrics = undefined;
    if (!binding) return;
    const { prometheusMetrics } = await import('../hub/metrics.js');
    const { device } = this.options;
    const prometheus = await prometheusMetrics(
      { iothub: device.iothubHostname, edge_device: device.deviceId, instance_number: randomUUID() },
      { connectedClients: () => this.core.hub.connectedClients, endpoints: () => this.core.hub.endpoints() },
    );
    this.core.hub.useMetrics(prometheus.metrics);
    const server = metricsServer(prometheus, this.options.log);
    guardConnections(server, this.guards.metrics);
    await listenPreferringRemembered(
      binding,
      remembered,
      (bound) =>
        new Promise<void>((resolve, reject) => {
          const failed = (error: NodeJS.ErrnoException) =>
            reject(
              new Error(
                `metrics: cannot listen on ${bound.host}:${bound.port}: ${error.code ?? error.message}`,
              ),
            );
          server.once('error', failed);
          server.listen({ host: bound.host, port: bound.port }, () => {
            server.off('error', failed);
            resolve();
          });
        }),
    );
    this.metrics = { binding, server };
  }

  /**
   * Keeps the bound ports in the homedir for the next start (see listenPreferringRemembered); a
   * port no longer bound is forgotten. A failed write is logged: the hub serves all the same.
   */
  private async rememberPorts(
    file: string,
    remembered: RememberedPorts,
    ports: ReturnType<HubService['ports']>,
  ): Promise<void> {
    const next: RememberedPorts = {};
    for (const [name, port] of Object.entries(ports))
      if (port !== undefined) next[name as keyof RememberedPorts] = port;
    if (JSON.stringify(next) === JSON.stringify(remembered)) return;
    try {
      await writeRememberedPorts(file, next);
    } catch (error) {
      this.options.log(`hub: cannot remember the bound ports in ${file}: ${(error as Error).message}`);
    }
  }

  /** Clients may present a certificate (leaf devices with X.509); the hub judges it, not TLS. */
  private tlsOptions(): tls.TlsOptions {
    const certificate = this.options.certificates.serverCertificate;
    return {
      key: certificate.privateKeyPem,
      cert: certificate.chainPem,
      minVersion: 'TLSv1.2',
      requestCert: true,
      rejectUnauthorized: false,
    };
  }

  private async stopListeners(): Promise<void> {
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(listeners.map((listener) => closeListener(listener)));
  }

  /** Ends the hub: its listeners, its client connections; what its stores hold is saved. */
  close(): Promise<void> {
    this.closed = true;
    this.stopCertificates();
    this.stores.scope?.stop();
    this.core.stopHeapWatch();
    return this.serial.run(() => this.closeHub());
  }
}
