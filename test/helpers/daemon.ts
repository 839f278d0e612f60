import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURES = path.join(ROOT, 'test/fixtures/daemon-modules');

/** A real iotedged in a temporary homedir, its management socket in the same directory. */
export class TestDaemon {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'iotedged-'));
  readonly homedir = path.join(this.dir, 'home');
  readonly socket = path.join(this.dir, 'mgmt.sock');
  readonly configFile = path.join(this.dir, 'config.yaml');
  process: ChildProcess | undefined;
  output = '';
  /** Environment variables the daemon gets besides the test's own (e.g. the hub's test deadlines). */
  readonly env: Record<string, string> = {};
  /** How long start() waits for the management API (longer where the daemon first talks to a service). */
  startTimeoutMs = 10_000;

  /** `extraYaml`: more top-level config.yaml lines, e.g. a moby_runtime section. */
  constructor(agentEnv: Record<string, string> = {}, extraYaml: string[] = [], hostname = 'edge-host') {
    const env = { CoolOffTimeUnitInSeconds: '0.2', StopGracePeriodInSeconds: '2', ...agentEnv };
    writeFileSync(
      this.configFile,
      [
        'provisioning:',
        '  source: manual',
        '  device_connection_string: "HostName=hub.example.net;DeviceId=edge-1;SharedAccessKey=c2VjcmV0a2V5MTIzNDU2Nzg="',
        'agent:',
        '  name: edgeAgent',
        '  type: docker',
        '  env:',
        ...Object.entries(env).map(([key, value]) => `    ${key}: "${value}"`),
        '  config:',
        '    image: mcr.microsoft.com/azureiotedge-agent:1.1',
        `hostname: ${hostname}`,
        'connect:',
        `  management_uri: unix://${this.socket}`,
        `  workload_uri: unix://${this.dir}/workload.sock`,
        'listen:',
        `  management_uri: unix://${this.socket}`,
        `  workload_uri: unix://${this.dir}/workload.sock`,
        `homedir: ${this.homedir}`,
        // Tests share one Docker engine: a daemon that is not about docker must not touch its containers.
        ...(extraYaml.some((line) => line.startsWith('moby_runtime:'))
          ? []
          : ['moby_runtime:', `  uri: unix://${this.dir}/no-docker.sock`]),
        ...extraYaml,
      ].join('\n'),
    );
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  /** Starts the daemon and resolves once its management API answers. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/iotedged.js'), '-c', this.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.env },
    });
    this.process = child;
    child.stdout!.on('data', (chunk) => (this.output += chunk));
    child.stderr!.on('data', (chunk) => (this.output += chunk));
    for (let attempt = 0; attempt < this.startTimeoutMs / 50; attempt += 1) {
      if (child.exitCode !== null) throw new Error(`iotedged exited ${child.exitCode}:\n${this.output}`);
      try {
        await this.request('GET', '/modules');
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error(`iotedged did not answer:\n${this.output}`);
  }

  /**
   * Sends a signal and resolves with the exit code once the daemon has exited. A daemon still
   * running after `deadlineMs` is killed and the wait fails with its output, so that a hang
   * shows what the daemon was doing instead of stalling the whole run.
   */
  async signal(signal: NodeJS.Signals, deadlineMs = 60_000): Promise<number | null> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<'overdue'>(
      (resolve) => (timer = setTimeout(() => resolve('overdue'), deadlineMs)),
    );
    const outcome = await Promise.race([exited, overdue]);
    clearTimeout(timer);
    if (outcome !== 'overdue') return outcome;
    child.kill('SIGKILL');
    await exited;
    throw new Error(`iotedged did not exit within ${deadlineMs} ms of ${signal}:\n${this.output}`);
  }

  request(method: string, route: string, body?: unknown): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const separator = route.includes('?') ? '&' : '?';
      const request = http.request(
        {
          socketPath: this.socket,
          method,
          path: `${route}${separator}api-version=2020-07-07`,
          // a fresh connection each time: reusing one the server is closing for idleness fails with EPIPE
          agent: false,
          timeout: REQUEST_TIMEOUT_MS,
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        },
      );
      request.on('error', reject);
      request.on('timeout', () =>
        request.destroy(new Error(`${method} ${route}: no answer within ${REQUEST_TIMEOUT_MS} ms`)),
      );
      if (body !== undefined) {
        request.setHeader('Content-Type', 'application/json');
        request.end(typeof body === 'string' ? body : JSON.stringify(body));
      } else {
        request.end();
      }
    });
  }

  async json<T = Record<string, unknown>>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await this.request(method, route, body);
    return JSON.parse(response.body) as T;
  }

  /** Writes `document` as JSON to a file in this daemon's directory (a manifest for the CLI); returns its path. */
  writeJson(name: string, document: unknown): string {
    const target = path.join(this.dir, name);
    writeFileSync(target, JSON.stringify(document));
    return target;
  }

  /** Runs the `iotedge` CLI against this daemon. */
  cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'bin/run.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, IOTEDGE_HOST: this.host, NO_COLOR: '1' },
      timeout: 30_000,
    });
    return { code: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  /** Runs the `iotedge` CLI without blocking this process (for commands that wait on a client the test runs). */
  cliAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [path.join(ROOT, 'bin/run.js'), ...args],
        {
          encoding: 'utf8',
          env: { ...process.env, IOTEDGE_HOST: this.host, NO_COLOR: '1' },
          timeout: 30_000,
        },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  async cleanup(): Promise<void> {
    await this.signal('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Longer than the agent's longest answer (a deployment waits up to 120 s for image pulls). */
const REQUEST_TIMEOUT_MS = 180_000;

/** The embedded hub on loopback, on ports the system picks, so that test daemons never collide. */
export const LOOPBACK_HUB_PORTS = hubPorts(0, 0);

/** edgeHub createOptions binding the hub's MQTT and HTTPS (and AMQP, metrics) listeners to 127.0.0.1 ports. */
export function hubPorts(mqtt: number, https: number, metrics?: number, amqp?: number): string {
  const binding = (port: number) => [{ HostIp: '127.0.0.1', HostPort: String(port) }];
  return JSON.stringify({
    HostConfig: {
      PortBindings: {
        '8883/tcp': binding(mqtt),
        '443/tcp': binding(https),
        ...(amqp === undefined ? {} : { '5671/tcp': binding(amqp) }),
        ...(metrics === undefined ? {} : { '9600/tcp': binding(metrics) }),
      },
    },
  });
}

/** A deployment manifest for process modules, with IoT Edge's envelope. */
export function manifest(
  modules: Record<string, Record<string, unknown>>,
  extra: Record<string, unknown> = {},
) {
  return {
    modulesContent: {
      $edgeAgent: {
        'properties.desired': {
          schemaVersion: '1.1',
          runtime: { type: 'docker', settings: { minDockerVersion: 'v1.25' } },
          systemModules: {
            edgeAgent: {
              type: 'docker',
              settings: { image: 'mcr.microsoft.com/azureiotedge-agent:1.1', createOptions: '{}' },
            },
            edgeHub: {
              type: 'docker',
              status: 'running',
              restartPolicy: 'always',
              settings: {
                image: 'mcr.microsoft.com/azureiotedge-hub:1.1',
                createOptions: LOOPBACK_HUB_PORTS,
              },
            },
          },
          modules,
          ...extra,
        },
      },
      $edgeHub: {
        'properties.desired': {
          schemaVersion: '1.1',
          routes: {},
          storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
        },
      },
    },
  };
}

/** A process module entry running one of the fixtures with node. */
export function nodeModule(fixture: string, args: string[] = [], fields: Record<string, unknown> = {}) {
  return {
    type: 'process',
    status: 'running',
    restartPolicy: 'always',
    settings: { command: process.execPath, args: [path.join(FIXTURES, fixture), ...args] },
    ...fields,
  };
}

/** Polls until `probe` returns a value (not undefined), or fails with the last seen state. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Waits until the edgeHub's status description (the heads and where they listen) matches `pattern`. */
export function hubListening(daemon: TestDaemon, pattern: RegExp, description: string): Promise<true> {
  return eventually(async () => {
    const status = await daemon.json<{ systemModules: { edgeHub: { statusDescription: string } } }>(
      'GET',
      '/deployment/status',
    );
    return pattern.test(status.systemModules.edgeHub.statusDescription) ? true : undefined;
  }, description);
}
