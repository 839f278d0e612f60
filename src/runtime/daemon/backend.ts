import { moduleInputEndpointId } from '../hub/endpoints/module-input.js';
import { UPSTREAM_ENDPOINT_ID } from '../hub/endpoints/upstream.js';
import type { MessageTap } from '../hub/monitor/tap.js';
import type { MessageWatch, MonitorRequest } from './monitor-route.js';
import type { Agent, ModuleView } from '../agent/agent.js';
import type { Settings } from '../config/settings.js';
import { DeploymentError } from '../deployment/deployment-error.js';
import { parseDeviceDeployment } from '../deployment/device-deployment.js';
import type { EdgeHub } from '../hub/hub.js';
import type { JsonObject } from '../hub/twin-store.js';
import { LeafDeviceInputError, type LeafDevice } from '../hub/leaf-device-spec.js';
import { reportedPatchError, TwinPatchError } from '../hub/twin/reported-validation.js';
import { isTwinObject } from '../hub/twin/twin-json.js';
import type { UpstreamReport } from './upstream-service.js';
import { LeafDeviceExistsError, type LeafDeviceRegistry } from '../hub/leaf-devices.js';
import { HubRequestError } from '../hub/hub-request-error.js';
import type { HubStatus } from './hub-service.js';
import type { DaemonLogReader } from './daemon-log.js';
import { isEmbeddedModule } from './daemon-log-lines.js';
import { configSourceWarning } from './deployment-notes.js';
import { createdLeafDevice, leafDeviceDetails } from './leaf-device-views.js';
import { systemInfoView, systemResourcesView } from './system-views.js';
import { reprovisionThrough, type Reprovisioning, type ReprovisionAnswer } from './reprovision.js';
import type { LogLine, LogOptions, ModuleSpec } from '../modules/types.js';
import {
  ApiError,
  type CloudToDeviceInvocation,
  type Identity,
  type CreatedLeafDevice,
  type DeployAnswer,
  type HubQueue,
  type HubStatusReport,
  type LeafDeviceDetails,
  type ManagementBackend,
  type MethodInvocation,
  type ModuleDetails,
} from './management-types.js';

const iso = (time: Date | undefined) => time?.toISOString();

function settingsOf(spec: ModuleSpec | undefined, image: string | undefined): Record<string, unknown> {
  if (!spec) return image ? { image } : {};
  if ('image' in spec.settings)
    return { image: spec.settings.image, createOptions: spec.settings.createOptions };
  return {
    command: spec.settings.command,
    args: spec.settings.args,
    ...(spec.settings.cwd ? { cwd: spec.settings.cwd } : {}),
  };
}

/** A module as GET /modules shows it (as IoT Edge 1.1 has it). */
export function moduleDetails(name: string, view: ModuleView): ModuleDetails {
  const { spec, state } = view;
  const description = view.description ?? state?.statusDescription;
  const exitStatus =
    state?.exitTime && state.exitCode !== undefined
      ? { exitTime: state.exitTime.toISOString(), statusCode: String(state.exitCode) }
      : undefined;
  return {
    id: name,
    name,
    type: spec?.type ?? state?.type ?? 'process',
    config: {
      settings: settingsOf(spec, state?.image),
      env: Object.entries(spec?.env ?? {}).map(([key, value]) => ({ key, value })),
    },
    status: {
      ...(state?.startTime ? { startTime: iso(state.startTime) } : {}),
      ...(exitStatus ? { exitStatus } : {}),
      runtimeStatus: {
        status: view.status,
        ...(description ? { description } : {}),
      },
    },
  };
}

/** Where a device that a child authenticates but did not register comes from. */
const FROM_PARENT = "it comes from the parent edge device's scope";

/** The management API over the embedded agent and its module runtimes. */
export class DaemonBackend implements ManagementBackend {
  constructor(
    private readonly agent: Agent,
    private readonly settings: Settings,
    private readonly version: string,
    private readonly hub?: {
      status: HubStatus;
      edgeHub?: EdgeHub;
      leafDevices?: LeafDeviceRegistry;
      /** Its registrations, then (a child) the identities learnt from its parent. */
      knownDevices?: { get(deviceId: string): LeafDevice | undefined; list(): LeafDevice[] };
      /** A device removed or given new credentials: its connections (and, removed, its twins) end. */
      devicesChanged?(deviceIds: readonly string[]): void;
      gatewayHostname?(): string;
      restart?(): Promise<void>;
      upstreamStatus?(): UpstreamReport;
      tap?: MessageTap;
    },
    private readonly daemonLog?: DaemonLogReader,
    /** Provisioning through DPS: its state, and a new registration on request. */
    private readonly provisioning?: Reprovisioning,
  ) {}

  /**
   * `target` names a module of this device when one is deployed by that name, else a leaf device,
   * or `device/module` a module of a child edge device registered here (reached through the
   * connection the child keeps for that module's identity).
   */
  async invokeMethod(call: MethodInvocation): Promise<{ status: number; payload: unknown }> {
    const edgeHub = this.runningHub(503);
    const isModule =
      call.target === 'edgeAgent' || call.target === 'edgeHub' || this.agent.modules().has(call.target);
    // a child also reaches the devices it authenticates from its parent's scope
    const known = this.hub?.knownDevices ?? this.hub?.leafDevices;
    const leaf = !isModule && known?.get(call.target) !== undefined;
    const slash = call.target.indexOf('/');
    const childModule = !isModule && slash > 0 && known?.get(call.target.slice(0, slash))?.edge === true;
    // `edgeAgent`, as `iotedge list` names it, is the `$edgeAgent` identity that serves methods
    const module = call.target === 'edgeAgent' ? '$edgeAgent' : call.target;
    const target = leaf || childModule ? call.target : `${edgeHub.deviceId}/${module}`;
    return answered(edgeHub.invokeMethod(target, { ...call, payload: call.payload ?? null }));
  }

  async sendCloudToDevice(
    deviceId: string,
    message: CloudToDeviceInvocation,
  ): Promise<{ messageId: string }> {
    const edgeHub = this.runningHub(503);
    if (this.knownDevice(deviceId) === undefined) throw new ApiError(404, `no leaf device ${deviceId}`);
    return answered(edgeHub.sendToDevice(deviceId, { ...message, body: Buffer.from(message.data, 'utf8') }));
  }

  async patchDeviceDesired(deviceId: string, patch: unknown): Promise<{ deviceId: string; version: number }> {
    const edgeHub = this.runningHub(503);
    if (this.leafDevices().get(deviceId) === undefined) {
      // upstream owns the desired properties of what it registered: they come down from there
      if (this.knownDevice(deviceId) !== undefined)
        throw new ApiError(404, `no leaf device ${deviceId} here: ${FROM_PARENT}, which owns its twin`);
      throw new ApiError(404, `no leaf device ${deviceId}`);
    }
    if (!isTwinObject(patch)) throw new ApiError(400, 'properties.desired: expected a JSON object');
    const invalid = reportedPatchError(patch);
    if (invalid) throw new ApiError(400, `properties.desired: ${invalid.message}`);
    return { deviceId, version: await answered(edgeHub.patchDeviceDesired(deviceId, patch as JsonObject)) };
  }

  /** The Edge Hub while it runs; otherwise an API error with `status`. */
  private runningHub(status: 404 | 503): EdgeHub {
    const edgeHub = this.hub?.status.status === 'running' ? this.hub.edgeHub : undefined;
    if (!edgeHub) throw new ApiError(status, 'the Edge Hub is not running');
    return edgeHub;
  }

  private leafDevices(): LeafDeviceRegistry {
    const registry = this.hub?.leafDevices;
    if (!registry) throw new ApiError(503, 'the Edge Hub has not started');
    return registry;
  }

  /** A device this hub authenticates: registered here, or (a child) learnt from its parent. */
  private knownDevice(deviceId: string): LeafDevice | undefined {
    return (this.hub?.knownDevices ?? this.leafDevices()).get(deviceId);
  }

  /** The registrations, then (a child) the devices learnt from its parent, marked as such. */
  async listDevices(): Promise<LeafDeviceDetails[]> {
    const hub = this.hub?.edgeHub;
    const local = this.leafDevices();
    return (this.hub?.knownDevices ?? local).list().map((device) => ({
      ...leafDeviceDetails(device, hub !== undefined && isConnectedDevice(hub, device)),
      ...(local.get(device.deviceId) === undefined ? { registeredAt: 'parent' as const } : {}),
    }));
  }

  async addDevice(request: unknown): Promise<CreatedLeafDevice> {
    try {
      const device = await this.leafDevices().add(request);
      const gateway = this.hub?.gatewayHostname?.() ?? this.settings.hostname;
      return createdLeafDevice(device, this.hub?.edgeHub?.iothubHostname ?? '', gateway);
    } catch (error) {
      if (error instanceof LeafDeviceInputError) throw new ApiError(400, error.message);
      if (error instanceof LeafDeviceExistsError) throw new ApiError(409, error.message);
      throw error;
    }
  }

  async removeDevice(deviceId: string): Promise<void> {
    const removed = await this.leafDevices().remove(deviceId);
    if (!removed) {
      if (this.knownDevice(deviceId) !== undefined)
        throw new ApiError(404, `device ${deviceId} is not registered here: ${FROM_PARENT}; remove it there`);
      throw new ApiError(404, `device ${deviceId} not found`);
    }
    // its credentials stop working now, and so must every connection they admitted: its own, those
    // a child edge device keeps on its behalf, and (an edge device) those kept for what lies below it
    this.hub?.devicesChanged?.([deviceId]);
  }

  private edgeHubModuleStatus(): ModuleDetails['status'] {
    const state = this.hub?.status ?? { status: 'stopped', description: 'the Edge Hub is not running' };
    return {
      ...(state.startTime ? { startTime: state.startTime.toISOString() } : {}),
      runtimeStatus: { status: state.status, description: state.description },
    };
  }

  private systemModules(): ModuleDetails[] {
    const agent: ModuleDetails = {
      id: 'edgeAgent',
      name: 'edgeAgent',
      type: 'docker',
      config: { settings: { image: this.agent.agentImage }, env: [] },
      status: {
        startTime: this.agent.startedAt.toISOString(),
        runtimeStatus: { status: 'running', description: 'embedded in iotedged' },
      },
    };
    const hubSpec = this.agent.edgeHubSpec;
    const hub: ModuleDetails = {
      id: 'edgeHub',
      name: 'edgeHub',
      type: 'docker',
      config: {
        settings: hubSpec && 'image' in hubSpec.settings ? { image: hubSpec.settings.image } : {},
        env: [],
      },
      status: this.edgeHubModuleStatus(),
    };
    return hubSpec ? [agent, hub] : [agent];
  }

  async listModules(): Promise<ModuleDetails[]> {
    const user = [...this.agent.modules()].map(([name, view]) => moduleDetails(name, view));
    return [...this.systemModules(), ...user].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  }

  async getModule(name: string): Promise<ModuleDetails> {
    const found = (await this.listModules()).find((module) => module.name === name);
    if (!found) throw new ApiError(404, `Module not found: ${name}`);
    return found;
  }

  private holder(name: string) {
    if (isEmbeddedModule(name)) {
      const how = name === 'edgeHub' ? ' (its status in the deployment says whether it runs)' : '';
      throw new ApiError(
        400,
        `${name} is embedded in iotedged: it can be restarted, not started or stopped${how}`,
      );
    }
    const runtime = this.agent.runtimeHolding(name);
    if (!runtime) throw new ApiError(404, `Module not found: ${name}`);
    return runtime;
  }

  async startModule(name: string): Promise<boolean> {
    const runtime = this.holder(name);
    const running = this.agent.modules().get(name)?.state?.status === 'running';
    if (running) return false;
    await runtime.start(name);
    await this.agent.reconcile();
    return true;
  }

  async stopModule(name: string): Promise<boolean> {
    const runtime = this.holder(name);
    if (this.agent.modules().get(name)?.state?.status !== 'running') return false;
    await runtime.stop(name, 10_000);
    await this.agent.reconcile();
    return true;
  }

  async restartModule(name: string): Promise<void> {
    if (isEmbeddedModule(name)) return this.restartEmbedded(name);
    const runtime = this.holder(name);
    await runtime.stop(name, 10_000);
    await runtime.start(name);
    await this.agent.reconcile();
  }

  /** edgeAgent reads its deployment again and reconciles; edgeHub closes and starts again. */
  private async restartEmbedded(name: 'edgeAgent' | 'edgeHub'): Promise<void> {
    try {
      if (name === 'edgeAgent') await this.agent.restart();
      else if (this.hub?.restart) await this.hub.restart();
      else throw new Error('the Edge Hub has not started');
    } catch (error) {
      throw new ApiError(500, `${name} could not restart: ${(error as Error).message}`);
    }
  }

  /** edgeAgent's and edgeHub's logs are their lines in the daemon's log. */
  async moduleLogs(name: string, options: LogOptions, signal: AbortSignal): Promise<AsyncIterable<LogLine>> {
    if (isEmbeddedModule(name)) return this.logReader().read(options, name, signal);
    return this.holder(name).logs(name, options, signal);
  }

  async daemonLogs(options: LogOptions, signal: AbortSignal): Promise<AsyncIterable<LogLine>> {
    return this.logReader().read(options, undefined, signal);
  }

  private logReader(): DaemonLogReader {
    if (!this.daemonLog) throw new ApiError(404, 'this daemon keeps no log files');
    return this.daemonLog;
  }

  async listIdentities(): Promise<Identity[]> {
    const generations = await this.agent.identities();
    return Object.entries(generations).map(([moduleId, generationId]) => ({
      moduleId,
      managedBy: 'IotEdge',
      generationId,
      authType: 'Sas',
    }));
  }

  async reprovision(): Promise<ReprovisionAnswer> {
    return reprovisionThrough(this.provisioning, this.settings);
  }

  async systemInfo(): Promise<Record<string, unknown>> {
    return systemInfoView(this.settings, this.version, this.provisioning?.state);
  }

  async upstreamStatus(): Promise<UpstreamReport> {
    return (
      this.hub?.upstreamStatus?.() ?? {
        target: 'none',
        protocol: 'MQTT',
        connected: false,
        lastError: 'the Edge Hub is not running',
      }
    );
  }

  async systemResources(): Promise<Record<string, unknown>> {
    return systemResourcesView();
  }

  /** The agent's answer, with what an accepted deployment changes and whether the config source will replace it. */
  async deploy(manifest: unknown): Promise<DeployAnswer> {
    const { code, reported, changes, sourceDiffers } = await this.agent.deploy(manifest);
    if (!changes) return { code, reported };
    const warning = configSourceWarning(this.settings.agent.env.LocalConfigPath);
    return { code, reported, notes: sourceDiffers ? { changes, warnings: [warning] } : { changes } };
  }

  deploymentSource(): string {
    const { source, upstream } = this.agent.origin;
    return source === 'upstream' && upstream
      ? `upstream; edgeAgent=${upstream.edgeAgent}; edgeHub=${upstream.edgeHub}`
      : 'local';
  }

  async deploymentStatus(): Promise<Record<string, unknown>> {
    return this.agent.reported();
  }

  async deployToDevice(deviceId: string, manifest: unknown): Promise<{ deviceId: string; version: number }> {
    const edgeHub = this.childEdgeDevice(deviceId);
    let desired: Record<string, Record<string, unknown>>;
    try {
      desired = parseDeviceDeployment(manifest);
    } catch (error) {
      if (error instanceof DeploymentError) throw new ApiError(400, error.message);
      throw error;
    }
    const version = await answered(edgeHub.deployToDevice(deviceId, desired as Record<string, JsonObject>));
    return { deviceId, version };
  }

  async deviceDeploymentStatus(
    deviceId: string,
    twin: '$edgeAgent' | '$edgeHub',
  ): Promise<Record<string, unknown>> {
    return this.childEdgeDevice(deviceId).reportedOf(`${deviceId}/${twin}`);
  }

  /** The Edge Hub that keeps the twins of `deviceId`, a child edge device registered here; else 404 or 400. */
  private childEdgeDevice(deviceId: string): EdgeHub {
    const edgeHub = this.hub?.edgeHub;
    if (!edgeHub) throw new ApiError(503, 'the Edge Hub has not started');
    if (deviceId === edgeHub.deviceId) {
      throw new ApiError(400, `${deviceId} is this device: its own deployment is iotedge deploy FILE`);
    }
    const device = this.leafDevices().get(deviceId);
    if (!device) {
      throw new ApiError(
        404,
        `no edge device ${deviceId} is registered here (register it with: iotedge identity add ${deviceId} --edge)`,
      );
    }
    if (!device.edge) {
      throw new ApiError(400, `${deviceId} is a leaf device, not an edge device: it takes no deployment`);
    }
    return edgeHub;
  }

  async hubReported(): Promise<Record<string, unknown>> {
    return this.runningHub(404).reported();
  }

  async hubStatus(): Promise<HubStatusReport> {
    const edgeHub = this.runningHub(404);
    const startTime = this.hub?.status.startTime;
    return {
      startTime: iso(startTime) ?? null,
      ...edgeHub.statusReport(),
      queues: await this.hubQueues(),
      upstream: await this.upstreamStatus(),
    };
  }

  async watchMessages(request: MonitorRequest): Promise<MessageWatch> {
    const tap = this.hub?.tap;
    const edgeHub = this.hub?.edgeHub;
    if (!tap || !edgeHub) throw new ApiError(404, 'the Edge Hub is not running');
    const endpoint = request.input
      ? moduleInputEndpointId(`${edgeHub.deviceId}/${request.input.module}`, request.input.input)
      : UPSTREAM_ENDPOINT_ID;
    return tap.watch({ endpoint, deviceId: request.deviceId, moduleId: request.moduleId });
  }

  async hubQueues(): Promise<HubQueue[]> {
    const now = Date.now();
    return this.runningHub(404)
      .endpoints()
      .map((endpoint) => {
        const { messages, bytes, oldestEnqueuedAt, duplicates } = endpoint.figures();
        const age =
          oldestEnqueuedAt === undefined ? null : Math.max(0, Math.floor((now - oldestEnqueuedAt) / 1000));
        return { endpoint: endpoint.id, messages, bytes, oldestMessageAgeSeconds: age, duplicates };
      });
  }
}

/**
 * Whether a registered device is connected: a leaf device by its own connection, a child edge
 * device also by the one its hub keeps for its link (`{child}/$edgeHub`).
 */
function isConnectedDevice(hub: EdgeHub, device: { deviceId: string; edge?: boolean }): boolean {
  return (
    hub.isConnected(device.deviceId) ||
    (device.edge === true && hub.isConnected(`${device.deviceId}/$edgeHub`))
  );
}

/** A hub request's result; its refusal (404, 504, 400) as the API error with that status. */
async function answered<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof HubRequestError) throw new ApiError(error.status, error.message);
    if (error instanceof TwinPatchError)
      throw new ApiError(error.status, `properties.desired: ${error.message}`);
    throw error;
  }
}
