import type { UpstreamReport } from './upstream-service.js';
import type { LogLine, LogOptions, RuntimeStatus } from '../modules/types.js';
import type { DeploymentNotes } from './deployment-notes.js';
import type { HubCoreReport } from '../hub/hub.js';
import type { MessageWatch, MonitorRequest } from './monitor-route.js';
import type { ReprovisionAnswer } from './reprovision.js';

/** JSON shapes of the management API (as IoT Edge 1.1 has it; field names exact). */
export interface ModuleDetails {
  id: string;
  name: string;
  type: string;
  config: { settings: Record<string, unknown>; env: { key: string; value: string }[] };
  status: {
    startTime?: string;
    exitStatus?: { exitTime: string; statusCode: string };
    runtimeStatus: { status: RuntimeStatus; description?: string };
  };
}

export interface Identity {
  moduleId: string;
  managedBy: string;
  generationId: string;
  authType: 'None' | 'Sas' | 'X509';
}

/** The answer to POST /deployment: its status code, the reported properties, and notes for the operator. */
export interface DeployAnswer {
  code: number;
  reported: Record<string, unknown>;
  notes?: DeploymentNotes;
}

/** Thrown by a backend to answer with an HTTP status and a message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** What the management API serves; implemented by the daemon over its agent and runtimes. */
export interface ManagementBackend {
  listModules(): Promise<ModuleDetails[]>;
  getModule(name: string): Promise<ModuleDetails>;
  /** Resolve to false when nothing changed (304). */
  startModule(name: string): Promise<boolean>;
  stopModule(name: string): Promise<boolean>;
  restartModule(name: string): Promise<void>;
  /** A module's log; edgeAgent's and edgeHub's are their lines in the daemon's log. */
  moduleLogs(name: string, options: LogOptions, signal: AbortSignal): Promise<AsyncIterable<LogLine>>;
  /** The whole daemon's log (every component's lines, tagged). */
  daemonLogs(options: LogOptions, signal: AbortSignal): Promise<AsyncIterable<LogLine>>;
  listIdentities(): Promise<Identity[]>;
  systemInfo(): Promise<Record<string, unknown>>;
  systemResources(): Promise<Record<string, unknown>>;
  /** Applies a deployment manifest; resolves to the agent's reported properties, and notes for the operator. */
  deploy(manifest: unknown): Promise<DeployAnswer>;
  deploymentStatus(): Promise<Record<string, unknown>>;
  /** Where the running deployment came from (DEPLOYMENT_SOURCE_HEADER's value). */
  deploymentSource(): string;
  /**
   * Sets the desired properties of a child edge device's `$edgeAgent`, `$edgeHub` and modules from
   * a manifest (checked only structurally: 400 naming the field); 404 unless `deviceId` is an edge
   * device registered here. Resolves to `$edgeAgent`'s new desired version.
   */
  deployToDevice(deviceId: string, manifest: unknown): Promise<{ deviceId: string; version: number }>;
  /** The reported properties of a child edge device's `$edgeAgent` (or `$edgeHub`) twin; `{}` before any. */
  deviceDeploymentStatus(deviceId: string, twin: '$edgeAgent' | '$edgeHub'): Promise<Record<string, unknown>>;
  /** The embedded Edge Hub's reported properties (`$edgeHub`): 404 while the hub is not running. */
  hubReported(): Promise<Record<string, unknown>>;
  /** What each endpoint of the Edge Hub holds: 404 while the hub is not running. */
  hubQueues(): Promise<HubQueue[]>;
  /** Routed messages to `$upstream` or a module input, as they come (`iotedge monitor`). */
  watchMessages(request: MonitorRequest): Promise<MessageWatch>;
  /** The Edge Hub's upstream link: target, protocol, connected or offline since when, last error. */
  upstreamStatus(): Promise<UpstreamReport>;
  /** Routes, clients, queues, counters and upstream of the Edge Hub: 404 while it is not running. */
  hubStatus(): Promise<HubStatusReport>;
  /**
   * A direct method through the Edge Hub on a module of this device (by name), a leaf device, or a
   * module of a child edge device (`child/module`).
   */
  invokeMethod(call: MethodInvocation): Promise<{ status: number; payload: unknown }>;
  /** The leaf devices registered with this gateway (never their keys). */
  listDevices(): Promise<LeafDeviceDetails[]>;
  /** Registers a leaf device from a POST /devices body; 400 for bad input, 409 when it exists. */
  addDevice(request: unknown): Promise<CreatedLeafDevice>;
  /** Unregisters a leaf device and disconnects it; 404 when there is none. */
  removeDevice(deviceId: string): Promise<void>;
  /** A cloud-to-device message to a connected leaf device; resolves once the device completed it. */
  sendCloudToDevice(deviceId: string, message: CloudToDeviceInvocation): Promise<{ messageId: string }>;
  /** A new registration with DPS; 400 unless the device provisions through DPS, 502 when it fails. */
  reprovision(): Promise<ReprovisionAnswer>;
  /**
   * Merges a patch into a leaf device's desired properties (IoT Hub's service-side twin update);
   * 404 for an unknown device, 400 naming what is wrong with the patch. Resolves to the new version.
   */
  patchDeviceDesired(deviceId: string, patch: unknown): Promise<{ deviceId: string; version: number }>;
}

/** One endpoint's queue as GET /hub/queues shows it. */
export interface HubQueue {
  /** `$upstream`, or `{device}/{module}/inputs/{input}`. */
  endpoint: string;
  /** Held and not yet acknowledged. */
  messages: number;
  bytes: number;
  /** null when the queue is empty. */
  oldestMessageAgeSeconds: number | null;
  /** Sent again after a crash or restart lost their acknowledgement. */
  duplicates: number;
}

/** GET /hub/status: the Edge Hub as `iotedge hub status` shows it. */
export interface HubStatusReport extends HubCoreReport {
  /** When the hub (last) started: its counters count from then. */
  startTime: string | null;
  queues: HubQueue[];
  upstream: UpstreamReport;
}

/** The body of POST /devices/{id}/messages. */
export interface CloudToDeviceInvocation {
  data: string;
  properties?: Record<string, string>;
  messageId?: string;
  correlationId?: string;
  ackTimeoutInSeconds?: number;
}

/** A leaf device as GET /devices shows it. */
export interface LeafDeviceDetails {
  deviceId: string;
  authType: 'Sas' | 'X509';
  /** RFC 3339. */
  createdTime: string;
  connectionState: 'Connected' | 'Disconnected';
  primaryThumbprint?: string;
  secondaryThumbprint?: string;
  /** An edge device (a child of this one in a nested edge). */
  edge?: true;
  /** The edge device below this one that the device sits under. */
  parentId?: string;
  /**
   * `parent` for a device this child edge device authenticates from its parent's scope (registered
   * there, not here); absent for a registration of this device.
   */
  registeredAt?: 'parent';
}

/** The answer to POST /devices: the only time a SAS device's keys are shown. */
export interface CreatedLeafDevice extends LeafDeviceDetails {
  primaryKey?: string;
  secondaryKey?: string;
  /** `HostName={iothub};DeviceId={id};SharedAccessKey={primary}` (SAS) or `...;x509=true` (X.509). */
  connectionString: string;
  /** What leaf devices put in `GatewayHostName`: config.yaml `hostname`, with the MQTT port when not 8883. */
  gatewayHostName: string;
}

/** The body of POST /methods. */
export interface MethodInvocation {
  target: string;
  methodName: string;
  payload?: unknown;
  responseTimeoutInSeconds?: number;
  connectTimeoutInSeconds?: number;
}
