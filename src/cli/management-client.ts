import type { UpstreamReport } from '../runtime/daemon/upstream-service.js';
import type { ReprovisionAnswer } from '../runtime/daemon/reprovision.js';
import type { ProvisioningState } from '../runtime/provisioning/provisioner.js';
import http from 'node:http';
import { CLIENT_API_VERSION } from '../runtime/daemon/api-version.js';
import {
  DEPLOYMENT_NOTES_HEADER,
  DEPLOYMENT_SOURCE_HEADER,
  decodeDeploymentNotes,
  type DeploymentNotes,
} from '../runtime/daemon/deployment-notes.js';
import type {
  CreatedLeafDevice,
  HubQueue,
  HubStatusReport,
  LeafDeviceDetails,
  ModuleDetails,
} from '../runtime/daemon/management-types.js';
import { CliError } from './cli-error.js';
import { apiErrorMessage, DaemonUnreachableError, ManagementApiError } from './management-errors.js';
import { parseManagementHost, type ManagementEndpoint } from './management-host.js';

/** A module name or device id as one segment of a request path; an empty one is refused here. */
function segment(value: string, what: 'module name' | 'device id'): string {
  if (value === '') throw new CliError(`The ${what} is empty`);
  return encodeURIComponent(value);
}

export interface ModuleList {
  modules: ModuleDetails[];
}

export interface SystemInfo {
  osType: string;
  architecture: string;
  version: string;
  provisioning?: {
    type: string;
    dynamicReprovisioning: boolean;
    alwaysReprovisionOnStartup: boolean;
    /** Where provisioning through DPS stands. */
    state?: ProvisioningState;
  };
  server_version?: string;
  kernel_version?: string;
  operating_system?: string;
  cpus?: number;
  virtualized?: string;
}

export interface SystemResources {
  /** Seconds. */
  host_uptime: number;
  /** Seconds since iotedged started. */
  process_uptime: number;
  used_cpu: number;
  used_ram: number;
  total_ram: number;
  disks: unknown[];
  docker_stats: string;
}

export interface LogsQuery {
  follow: boolean;
  tail: 'all' | number;
  /** Unix seconds. */
  since?: number;
  /** Unix seconds. */
  until?: number;
  timestamps: boolean;
}

/** What `iotedge monitor` watches: `input` is `MODULE/INPUT` (else `$upstream`); `device`/`module` filter senders. */
export interface MonitorQuery {
  input?: string;
  device?: string;
  module?: string;
}

export type ReportedProperties = Record<string, unknown>;

type Query = Record<string, string | number | boolean | undefined>;

/**
 * A small HTTP/1.1 client for the daemon's management API (as IoT Edge 1.1 has it). It uses
 * node:http directly so that short commands such as `iotedge list` stay fast.
 */
export class ManagementClient {
  private readonly endpoint: ManagementEndpoint;

  constructor(readonly host: string) {
    this.endpoint = parseManagementHost(host);
  }

  async listModules(): Promise<ModuleList> {
    const list = await this.json<ModuleList>('GET', '/modules');
    if (!list || !Array.isArray(list.modules)) throw this.invalidResponse('GET', '/modules');
    return list;
  }

  /** A new registration with DPS (POST /device/reprovision). */
  async reprovision(): Promise<ReprovisionAnswer> {
    const answer = await this.json<ReprovisionAnswer>('POST', '/device/reprovision');
    if (!answer || typeof answer.deviceId !== 'string')
      throw this.invalidResponse('POST', '/device/reprovision');
    return answer;
  }

  async restartModule(name: string): Promise<void> {
    await this.json('POST', `/modules/${segment(name, 'module name')}/restart`);
  }

  /** The raw body of GET /modules/{name}/logs: Docker multiplexed frames (see runtime/daemon/log-frames.ts). */
  moduleLogs(name: string, query: LogsQuery, signal?: AbortSignal): Promise<AsyncIterable<Buffer>> {
    return this.logStream(`/modules/${segment(name, 'module name')}/logs`, { ...query }, signal);
  }

  /** The raw body of GET /systeminfo/logs: the whole daemon's log, framed as a module's. */
  daemonLogs(query: LogsQuery, signal?: AbortSignal): Promise<AsyncIterable<Buffer>> {
    return this.logStream('/systeminfo/logs', { ...query }, signal);
  }

  /** The raw body of GET /hub/monitor: one JSON object per line, as messages are routed. */
  monitor(query: MonitorQuery, signal?: AbortSignal): Promise<AsyncIterable<Buffer>> {
    return this.logStream('/hub/monitor', { ...query }, signal);
  }

  /** A streamed answer's raw body (log frames, monitor lines). */
  private async logStream(path: string, query: Query, signal?: AbortSignal): Promise<AsyncIterable<Buffer>> {
    const response = await this.open('GET', path, { ...query }, undefined, signal);
    if (response.statusCode !== 200) throw await this.errorOf(response);
    return this.guarded(response);
  }

  async systemInfo(): Promise<SystemInfo> {
    const info = await this.json<SystemInfo>('GET', '/systeminfo');
    if (!info || typeof info !== 'object') throw this.invalidResponse('GET', '/systeminfo');
    return info;
  }

  /** The Edge Hub's upstream link (an older daemon without the route answers 404: undefined). */
  async upstreamStatus(): Promise<UpstreamReport | undefined> {
    try {
      return await this.json<UpstreamReport>('GET', '/systeminfo/upstream');
    } catch (error) {
      if (error instanceof ManagementApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async systemResources(): Promise<SystemResources> {
    const resources = await this.json<SystemResources>('GET', '/systeminfo/resources');
    if (!resources || typeof resources !== 'object')
      throw this.invalidResponse('GET', '/systeminfo/resources');
    return resources;
  }

  /** POSTs a deployment manifest (JSON text) and resolves to the agent's reported properties. */
  /**
   * POSTs a deployment manifest (JSON text) and resolves to the agent's reported properties, with
   * the daemon's notes (what the deployment changes, warnings).
   */
  async deploy(manifestJson: string): Promise<{ reported: ReportedProperties; notes: DeploymentNotes }> {
    const { value: reported, headers } = await this.exchange<ReportedProperties>(
      'POST',
      '/deployment',
      {},
      manifestJson,
    );
    if (!reported || typeof reported !== 'object') throw this.invalidResponse('POST', '/deployment');
    const header = headers[DEPLOYMENT_NOTES_HEADER];
    return { reported, notes: decodeDeploymentNotes(typeof header === 'string' ? header : undefined) };
  }

  /** A direct method on a module or a leaf device, through the daemon's Edge Hub. */
  async invokeMethod(call: {
    target: string;
    methodName: string;
    payload?: unknown;
    responseTimeoutInSeconds?: number;
    connectTimeoutInSeconds?: number;
  }): Promise<{ status: number; payload: unknown }> {
    const result = await this.json<{ status: number; payload: unknown }>(
      'POST',
      '/methods',
      {},
      JSON.stringify(call),
    );
    if (!result || typeof result.status !== 'number') throw this.invalidResponse('POST', '/methods');
    return result;
  }

  /** A cloud-to-device message to a leaf device; resolves once the device completed it. */
  async sendCloudToDevice(
    deviceId: string,
    message: {
      data: string;
      properties?: Record<string, string>;
      messageId?: string;
      correlationId?: string;
      ackTimeoutInSeconds?: number;
    },
  ): Promise<{ messageId: string }> {
    const path = `/devices/${segment(deviceId, 'device id')}/messages`;
    const result = await this.json<{ messageId: string }>('POST', path, {}, JSON.stringify(message));
    if (!result || typeof result.messageId !== 'string') throw this.invalidResponse('POST', path);
    return result;
  }

  async listDevices(): Promise<LeafDeviceDetails[]> {
    const list = await this.json<{ devices: LeafDeviceDetails[] }>('GET', '/devices');
    if (!list || !Array.isArray(list.devices)) throw this.invalidResponse('GET', '/devices');
    return list.devices;
  }

  /** Registers a leaf device; the answer holds its keys (shown this once). */
  async addDevice(request: {
    deviceId: string;
    authentication?: Record<string, string | undefined>;
    edge?: boolean;
    parentId?: string;
  }): Promise<CreatedLeafDevice> {
    const created = await this.json<CreatedLeafDevice>('POST', '/devices', {}, JSON.stringify(request));
    if (!created || typeof created.connectionString !== 'string')
      throw this.invalidResponse('POST', '/devices');
    return created;
  }

  async removeDevice(deviceId: string): Promise<void> {
    await this.json('DELETE', `/devices/${segment(deviceId, 'device id')}`);
  }

  /** What each endpoint of the Edge Hub holds; undefined while the hub is not running (404). */
  async hubQueues(): Promise<HubQueue[] | undefined> {
    try {
      const answer = await this.json<{ queues: HubQueue[] }>('GET', '/hub/queues');
      if (!answer || !Array.isArray(answer.queues)) throw this.invalidResponse('GET', '/hub/queues');
      return answer.queues;
    } catch (error) {
      if (error instanceof ManagementApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Routes, clients, queues, counters and upstream of the Edge Hub; a clear error while it is not running. */
  async hubStatus(): Promise<HubStatusReport> {
    let status: HubStatusReport | undefined;
    try {
      status = await this.json<HubStatusReport>('GET', '/hub/status');
    } catch (error) {
      if (error instanceof ManagementApiError && error.status === 404)
        throw new CliError(`The Edge Hub of the IoT Edge daemon at ${this.host} is not running`);
      throw error;
    }
    if (!status || !Array.isArray(status.routes) || !Array.isArray(status.clients))
      throw this.invalidResponse('GET', '/hub/status');
    return status;
  }

  /** Sets the desired properties of a child edge device from a manifest; resolves to `$edgeAgent`'s version. */
  async deployToDevice(
    deviceId: string,
    manifestJson: string,
  ): Promise<{ deviceId: string; version: number }> {
    const path = `/devices/${segment(deviceId, 'device id')}/deployment`;
    const answer = await this.json<{ deviceId: string; version: number }>('POST', path, {}, manifestJson);
    if (!answer || typeof answer.version !== 'number') throw this.invalidResponse('POST', path);
    return answer;
  }

  /** What a child edge device's agent (or, with `$edgeHub`, its hub) reported to this device. */
  async deviceDeploymentStatus(
    deviceId: string,
    twin: '$edgeAgent' | '$edgeHub' = '$edgeAgent',
  ): Promise<ReportedProperties> {
    const path =
      `/devices/${segment(deviceId, 'device id')}/deployment/status` +
      (twin === '$edgeHub' ? '/edgeHub' : '');
    const reported = await this.json<ReportedProperties>('GET', path);
    if (!reported || typeof reported !== 'object') throw this.invalidResponse('GET', path);
    return reported;
  }

  /** The agent's reported properties, or with `twin: '$edgeHub'` the embedded hub's. */
  async deploymentStatus(twin: '$edgeAgent' | '$edgeHub' = '$edgeAgent'): Promise<ReportedProperties> {
    return (await this.deploymentStatusWithSource(twin)).reported;
  }

  /** The reported properties, and where the running deployment came from (`local`, `upstream; …`). */
  async deploymentStatusWithSource(
    twin: '$edgeAgent' | '$edgeHub' = '$edgeAgent',
  ): Promise<{ reported: ReportedProperties; source?: string }> {
    const path = twin === '$edgeHub' ? '/deployment/status/edgeHub' : '/deployment/status';
    const { value: reported, headers } = await this.exchange<ReportedProperties>('GET', path, {});
    if (!reported || typeof reported !== 'object') throw this.invalidResponse('GET', path);
    const source = headers[DEPLOYMENT_SOURCE_HEADER];
    return typeof source === 'string' ? { reported, source } : { reported };
  }

  private async json<T>(
    method: string,
    path: string,
    query: Query = {},
    body?: string,
  ): Promise<T | undefined> {
    return (await this.exchange<T>(method, path, query, body)).value;
  }

  /** A request whose answer is JSON (or empty): its value and the response headers. */
  private async exchange<T>(
    method: string,
    path: string,
    query: Query,
    body?: string,
  ): Promise<{ value: T | undefined; headers: http.IncomingHttpHeaders }> {
    const response = await this.open(method, path, query, body);
    const text = await this.readBody(response);
    const status = response.statusCode ?? 0;
    if (status >= 400) throw this.apiError(response, text);
    if (text.trim() === '') return { value: undefined, headers: response.headers };
    try {
      return { value: JSON.parse(text) as T, headers: response.headers };
    } catch {
      throw this.invalidResponse(method, path);
    }
  }

  private open(
    method: string,
    path: string,
    query: Query,
    body?: string,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const search = new URLSearchParams({ 'api-version': CLIENT_API_VERSION });
    for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    return new Promise((resolve, reject) => {
      const request = http.request(
        { ...this.endpoint, method, path: `${path}?${search}`, headers, agent: false, signal },
        resolve,
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        reject(error.name === 'AbortError' ? error : DaemonUnreachableError.from(this.host, error));
      });
      request.end(body);
    });
  }

  private async readBody(response: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.guarded(response)) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** The response body, with a dropped connection turned into one clear line. */
  private async *guarded(response: http.IncomingMessage): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of response) yield chunk as Buffer;
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new CliError(
        `The connection to the IoT Edge daemon at ${this.host} was lost: ${(error as Error).message}`,
      );
    }
  }

  private async errorOf(response: http.IncomingMessage): Promise<ManagementApiError> {
    return this.apiError(response, await this.readBody(response));
  }

  private apiError(response: http.IncomingMessage, text: string): ManagementApiError {
    const status = response.statusCode ?? 0;
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        body = parsed as Record<string, unknown>;
    } catch {
      // an empty or non-JSON error body: the status line says enough
    }
    return new ManagementApiError(status, apiErrorMessage(status, response.statusMessage ?? '', text), body);
  }

  private invalidResponse(method: string, path: string): CliError {
    return new CliError(`The IoT Edge daemon at ${this.host} sent an invalid response to ${method} ${path}`);
  }
}
