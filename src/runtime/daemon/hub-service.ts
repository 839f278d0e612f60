import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

import type { Deployment } from '../agent/manifest.js';
import type { Settings } from '../config/settings.js';
import { loadEdgeCa, type EdgeCa } from '../identity/certificates/edge-ca.js';
import {
  issueHubServerCertificate,
  type HubServerCertificate,
} from '../identity/certificates/server-cert.js';
import { loadServerCertificate, saveServerCertificate } from '../identity/certificates/server-cert-cache.js';
import { metricsServer } from '../hub/http/metrics-server.js';
import { methodsRequestListener } from '../hub/http/methods-api.js';
import { EdgeHub } from '../hub/hub.js';
import { IdentityRegistry } from '../hub/identities.js';
import { LeafDeviceRegistry } from '../hub/leaf-devices.js';
import { hubBindings, sameBinding, type Binding } from '../hub/listen-ports.js';
import { MqttHead } from '../hub/mqtt-head/head.js';
import type { Wire } from '../hub/mqtt-head/wire.js';
import { SessionStore } from '../hub/sessions.js';
import type { TwinObject } from '../hub/twin/twin-json.js';
import { TwinStore } from '../hub/twin-store.js';
import type { ModuleSpec } from '../modules/types.js';
import { packageVersion } from '../../version.js';
import { guardedListener } from '../http-guard.js';
import { Serial } from '../serial.js';
import { guardConnections, type ConnectionGuardOptions } from './connection-guard.js';
import { watchTrafficForHeap } from './heap-mode-watch.js';
import { listenerGuards, listenerLimitsFromEnv, type ListenerLimits } from './listener-limits.js';
import { closeListener, listen, type Listener } from './tls-listener.js';
import { WorkloadServers } from '../workload/workload-server.js';

export interface HubServiceOptions {
  settings: Settings;
  device: { deviceId: string; iothubHostname: string; deviceKey?: string };
  /** Module generation ids, as the agent keeps them. */
  generationId(module: string): Promise<string | undefined>;
  wire: Wire;
  log(line: string): void;
}

export interface HubStatus {
  status: 'running' | 'stopped' | 'failed';
  description: string;
  startTime?: Date;
}

type PlainListener = { binding: Binding; server: http.Server };

/**
 * The Edge Hub as iotedged embeds it: the edge CA and the hub's server certificate (renewed before
 * it expires), the workload sockets of modules, and the hub's MQTT and HTTPS listeners on the host
 * ports the deployment's edgeHub entry binds.
 */
export class HubService {
  private ca!: EdgeCa;
  private certificate!: HubServerCertificate;
  private hub!: EdgeHub;
  private head!: MqttHead;
  private sessions!: SessionStore;
  private twins!: TwinStore;
  private leaves!: LeafDeviceRegistry;
  /** Deadlines and connection caps of the listeners (environment variables, for tests). */
  private limits!: ListenerLimits;
  private guards!: Record<'mqtt' | 'https' | 'metrics', ConnectionGuardOptions>;
  private identities!: IdentityRegistry;
  /** The last deployment applied, which a restart applies again. */
  private deployment: Deployment | undefined;
  /** Whether the EdgeHub and MQTT head of this instance are up (a restart replaces them). */
  private opened = false;
  readonly workload: WorkloadServers;
  private mqtt: Listener | undefined;
  private https: Listener | undefined;
  private metrics: PlainListener | undefined;
  private renewal: NodeJS.Timeout | undefined;
  private stopHeapWatch: (() => void) | undefined;
  private state: HubStatus = { status: 'stopped', description: 'no deployment yet' };
  private readonly serial = new Serial();
  private closed = false;

  constructor(private readonly options: HubServiceOptions) {
    const { settings, device } = options;
    this.workload = new WorkloadServers(
      settings.homedir,
      {
        deviceId: device.deviceId,
        iothubHostname: device.iothubHostname,
        deviceKey: () => device.deviceKey,
        generationId: (module) => options.generationId(module),
        edgeCa: () => this.edgeCa(),
        now: () => new Date(),
      },
      options.log,
    );
  }

  get edgeHub(): EdgeHub {
    return this.hub;
  }

  get status(): HubStatus {
    return this.state;
  }

  /** The leaf devices registered with this gateway (`<homedir>/hub/devices.json`). */
  get leafDevices(): LeafDeviceRegistry {
    return this.leaves;
  }

  /** The bound MQTT and HTTPS ports (useful when the deployment asked for port 0). */
  ports(): { mqtt?: number; https?: number; metrics?: number } {
    const port = (listener?: { server: net.Server }) =>
      (listener?.server.address() as AddressInfo | null)?.port;
    return { mqtt: port(this.mqtt), https: port(this.https), metrics: port(this.metrics) };
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

  async start(): Promise<void> {
    const { settings, device } = this.options;
    this.limits = listenerLimitsFromEnv(process.env);
    this.guards = listenerGuards(this.limits, this.options.log);
    const dir = path.join(settings.homedir, 'hub');
    this.twins = new TwinStore(path.join(dir, 'twins.json'), this.options.log);
    this.sessions = new SessionStore(path.join(dir, 'sessions.json'), this.options.log);
    this.leaves = new LeafDeviceRegistry(path.join(dir, 'devices.json'), device.deviceId);
    await Promise.all([this.twins.load(), this.sessions.load(), this.leaves.reload()]);
    this.identities = new IdentityRegistry({
      deviceId: device.deviceId,
      iothubHostname: device.iothubHostname,
      edgeHostname: settings.hostname,
      deviceKey: device.deviceKey,
      generationId: this.options.generationId,
      leafDevices: this.leaves,
      now: () => new Date(),
    });
    await this.openHub();
    await this.edgeCa();
  }

  /** A fresh EdgeHub and MQTT head over the stores, which outlive them (twins, sessions, devices). */
  private async openHub(): Promise<void> {
    const { log } = this.options;
    const hub = new EdgeHub({
      identities: this.identities,
      twins: this.twins,
      version: packageVersion(),
      log,
    });
    this.head = await MqttHead.create({
      hub,
      wire: this.options.wire,
      sessions: this.sessions,
      connectTimeoutMs: this.limits.connectMs,
      log,
    });
    this.hub = hub;
    const { counters } = hub.router;
    this.stopHeapWatch = watchTrafficForHeap(() => counters.routed + counters.dropped, log);
    this.opened = true;
  }

  /** Ends every client connection and listener, and saves what the stores hold. */
  private async closeHub(): Promise<void> {
    this.opened = false;
    this.stopHeapWatch?.();
    this.hub?.close();
    await this.stopListeners();
    await this.serveMetrics(undefined);
    await this.head?.close();
    await Promise.all([this.twins?.flush(), this.sessions?.flush()]);
  }

  /**
   * What restarting edgeHub means for the embedded hub: its listeners and client connections end
   * (clients reconnect, as when the daemon restarts: twins, persistent MQTT sessions and leaf
   * devices are kept; messages waiting in memory for a module are not), and it starts again from
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
      if (this.deployment) await this.applyNow(this.deployment);
      if (this.state.status === 'failed') throw new Error(this.state.description);
    });
  }

  /** Creates the edge CA and the server certificate on first use; both are renewed later. */
  private async edgeCa(): Promise<EdgeCa> {
    if (!this.ca || this.ca.notAfter.getTime() <= Date.now()) await this.renew();
    return this.ca;
  }

  private async renew(): Promise<void> {
    const { homedir, hostname } = this.options.settings;
    this.ca = await loadEdgeCa(this.options.settings);
    const directory = path.join(homedir, 'hub');
    const saved = await loadServerCertificate(directory, this.ca, hostname, new Date());
    if (saved) this.certificate = saved;
    else {
      this.certificate = await issueHubServerCertificate(this.ca, { hostname });
      await saveServerCertificate(directory, this.certificate);
    }
    const context = { key: this.certificate.privateKeyPem, cert: this.certificate.chainPem };
    for (const listener of [this.mqtt, this.https]) listener?.server.setSecureContext(context);
    clearTimeout(this.renewal);
    const due = Math.max(this.certificate.renewAt.getTime() - Date.now(), 60_000);
    // setTimeout holds 32-bit milliseconds: wake at most every 20 days and look again
    this.renewal = setTimeout(
      () => {
        this.renew().catch((error: Error) =>
          this.options.log(`hub: certificate renewal failed: ${error.message}`),
        );
      },
      Math.min(due, 20 * 24 * 3600 * 1000),
    );
    this.renewal.unref();
    this.options.log(
      `hub: server certificate for ${this.options.settings.hostname} valid until ${this.certificate.notAfter.toISOString()}`,
    );
  }

  async beforeCreate(spec: ModuleSpec): Promise<void> {
    await this.workload.ensure(spec.name);
  }

  /**
   * Applies a deployment the agent accepted: routes, module twins, listeners. One at a time: the
   * deployment at start and one posted meanwhile would otherwise both bind listeners (and leak one).
   */
  apply(deployment: Deployment): Promise<void> {
    return this.serial.run(async () => {
      if (!this.closed) await this.applyNow(deployment);
    });
  }

  /**
   * A module that left the deployment loses its workload socket and its live connection at once
   * (the agent has already forgotten its identity, so it cannot connect again).
   */
  private async forgetRemovedModules(deployed: readonly string[]): Promise<void> {
    for (const module of await this.workload.retain(deployed)) {
      this.hub.connections.get(`${this.options.device.deviceId}/${module}`)?.close();
    }
  }

  private async applyNow(deployment: Deployment): Promise<void> {
    this.deployment = deployment;
    if (!this.opened) await this.openHub();
    const moduleTwins = Object.fromEntries(
      deployment.modules.map((spec) => [spec.name, deployment.moduleTwins[spec.name] ?? {}]),
    ) as Record<string, TwinObject>;
    this.hub.applyDeployment(deployment.edgeHub, moduleTwins);
    await this.forgetRemovedModules(deployment.modules.map((spec) => spec.name));
    for (const spec of deployment.modules) await this.workload.ensure(spec.name);
    const hubSpec = deployment.systemModules.edgeHub;
    if (hubSpec.status !== 'running') {
      await this.stopListeners();
      this.state = { status: 'stopped', description: 'edgeHub is stopped in the deployment' };
      return;
    }
    const createOptions = 'image' in hubSpec.settings ? hubSpec.settings.createOptions : undefined;
    const bindings = hubBindings(createOptions);
    try {
      if (!sameBinding(this.mqtt?.binding, bindings.mqtt)) {
        await closeListener(this.mqtt);
        this.mqtt = await listen(
          bindings.mqtt,
          tls.createServer(this.tlsOptions(), (socket) => this.head.handle(socket)),
          this.guards.mqtt,
        );
      }
      if (!sameBinding(this.https?.binding, bindings.https)) {
        await closeListener(this.https);
        const listener = methodsRequestListener(this.hub, this.options.log);
        this.https = await listen(
          bindings.https,
          https.createServer(this.tlsOptions(), guardedListener('hub HTTPS', listener, this.options.log)),
          this.guards.https,
        );
      }
      await this.serveMetrics(bindings.metrics);
      const ports = this.ports();
      if (this.state.status !== 'running')
        this.state = { status: 'running', description: '', startTime: new Date() };
      this.state.description =
        `MQTT on ${bindings.mqtt.host}:${ports.mqtt}, HTTPS on ${bindings.https.host}:${ports.https}` +
        (bindings.metrics ? `, metrics on ${bindings.metrics.host}:${ports.metrics}` : '');
      this.options.log(`hub: ${this.state.description}`);
    } catch (error) {
      this.state = { status: 'failed', description: (error as Error).message };
      this.options.log(`hub: ${this.state.description}`);
    }
  }

  /** Prometheus metrics, when the deployment binds edgeHub's 9600/tcp (prom-client loads then). */
  private async serveMetrics(binding: Binding | undefined): Promise<void> {
    if (sameBinding(this.metrics?.binding, binding ?? { host: '', port: -1 })) return;
    if (this.metrics) {
      const closed = new Promise((resolve) => this.metrics!.server.close(resolve));
      this.metrics.server.closeAllConnections();
      await closed;
    }
    this.metrics = undefined;
    if (!binding) return;
    const { prometheusMetrics } = await import('../hub/metrics.js');
    const { device } = this.options;
    const prometheus = await prometheusMetrics(
      { iothub: device.iothubHostname, edge_device: device.deviceId, instance_number: randomUUID() },
      { connectedClients: () => this.hub.connections.size, endpoints: () => this.hub.router.all() },
    );
    this.hub.router.metrics = prometheus.metrics;
    const server = metricsServer(prometheus, this.options.log);
    guardConnections(server, this.guards.metrics);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `metrics: cannot listen on ${binding.host}:${binding.port}: ${error.code ?? error.message}`,
          ),
        ),
      );
      server.listen({ host: binding.host, port: binding.port }, () => resolve());
    });
    this.metrics = { binding, server };
  }

  /** Clients may present a certificate (leaf devices with X.509); the hub judges it, not TLS. */
  private tlsOptions(): tls.TlsOptions {
    return {
      key: this.certificate.privateKeyPem,
      cert: this.certificate.chainPem,
      minVersion: 'TLSv1.2',
      requestCert: true,
      rejectUnauthorized: false,
    };
  }

  private async stopListeners(): Promise<void> {
    await Promise.all([closeListener(this.mqtt), closeListener(this.https)]);
    this.mqtt = this.https = undefined;
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.renewal);
    this.stopHeapWatch?.();
    return this.serial.run(async () => {
      await this.closeHub();
      await this.workload.close();
    });
  }
}
