// Shared by the benchmarks that load a real iotedged's hub: a daemon started with extra node flags,
// the workload socket's HTTP API, polling, free loopback ports, and MQTT connect options of a
// module, signed by its workload socket as the Azure IoT SDK does it.
import { spawn } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { workloadSocket } from '../dist/src/runtime/workload/socket-layout.js';
export { freePort } from '../dist/test/helpers/free-port.js';
import { TestDaemon } from '../dist/test/helpers/daemon.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** TestDaemon, started with extra node flags (--cpu-prof) and its test environment. */
export class BenchDaemon extends TestDaemon {
  nodeFlags = [];

  constructor(extraYaml = []) {
    super({}, extraYaml, 'localhost');
  }

  async start() {
    const child = spawn(
      process.execPath,
      [...this.nodeFlags, path.join(ROOT, 'bin/iotedged.js'), '-c', this.configFile],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } },
    );
    this.process = child;
    child.stdout.on('data', (chunk) => (this.output += chunk));
    child.stderr.on('data', (chunk) => (this.output += chunk));
    for (let attempt = 0; attempt < 200; attempt += 1) {
      if (child.exitCode !== null) throw new Error(`iotedged exited ${child.exitCode}:\n${this.output}`);
      try {
        await this.request('GET', '/modules');
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error(`iotedged did not answer:\n${this.output}`);
  }
}

export function unixRequest(socketPath, method, route, body) {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, method, path: route }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () =>
        response.statusCode >= 300
          ? reject(new Error(`${method} ${route}: ${response.statusCode} ${text}`))
          : resolve(JSON.parse(text)),
      );
    });
    request.on('error', reject);
    if (body === undefined) return request.end();
    request.setHeader('Content-Type', 'application/json');
    request.end(JSON.stringify(body));
  });
}

/** Polls `probe` until it returns a value (not undefined). */
export async function until(probe, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The port the deployed hub's MQTT listens on, once it runs. */
export function hubMqttPort(daemon) {
  return until(async () => {
    const status = await daemon.json('GET', '/deployment/status');
    const hub = status.systemModules?.edgeHub;
    const match = /MQTT on 127\.0\.0\.1:(\d+)/.exec(hub?.statusDescription ?? '');
    return hub?.runtimeStatus === 'running' && match ? Number(match[1]) : undefined;
  }, 'the hub to listen');
}

/**
 * The trust bundle and, for each module, its MQTT connect options: a SAS token signed by its
 * workload socket (audience `{iothub}/devices/{device}/modules/{module}`), valid for an hour.
 */
export async function moduleCredentials(daemon, modules) {
  const config = readFileSync(daemon.configFile, 'utf8');
  const iothub = /HostName=([^;"]+)/.exec(config)[1];
  const deviceId = /DeviceId=([^;"]+)/.exec(config)[1];
  const identities = path.join(daemon.homedir, 'agent', 'identities.json');
  const workload = (module) => workloadSocket(daemon.homedir, module);
  const generations = await until(async () => {
    const ids = JSON.parse(readFileSync(identities, 'utf8'));
    return modules.every((module) => ids[module] && existsSync(workload(module))) ? ids : undefined;
  }, 'the module identities');
  const ca = (await unixRequest(workload(modules[0]), 'GET', '/trust-bundle?api-version=2018-06-28'))
    .certificate;
  const connectOptions = async (module) => {
    const audience = encodeURIComponent(`${iothub}/devices/${deviceId}/modules/${module}`);
    const expiry = Math.floor(Date.now() / 1000) + 3600;
    const { digest } = await unixRequest(
      workload(module),
      'POST',
      `/modules/${module}/genid/${encodeURIComponent(generations[module])}/sign?api-version=2018-06-28`,
      {
        keyId: 'primary',
        algo: 'HMACSHA256',
        data: Buffer.from(`${audience}\n${expiry}`).toString('base64'),
      },
    );
    return {
      clientId: `${deviceId}/${module}`,
      username: `localhost/${deviceId}/${module}/?api-version=2021-04-12`,
      password: `SharedAccessSignature sr=${audience}&sig=${encodeURIComponent(digest)}&se=${expiry}`,
    };
  };
  const options = {};
  for (const module of modules) options[module] = await connectOptions(module);
  return { ca, deviceId, options };
}

/** Self time of a .cpuprofile, by function and by package/file, as text. */
export function profileSummary(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (deltas[index] ?? 0)));
  const idle = [...self].filter(([id]) => byId.get(id).callFrame.functionName === '(idle)');
  const idleTime = idle.reduce((sum, [, value]) => sum + value, 0);
  for (const [id] of idle) self.delete(id);
  const total = [...self.values()].reduce((sum, value) => sum + value, 0);
  const functions = new Map();
  const places = new Map();
  const placeOf = (url) => {
    if (!url) return '(native / vm)';
    const file = url.replace(/^file:\/\//, '');
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    if (pkg) return `node_modules/${pkg[1]}`;
    if (file.startsWith('node:')) return file;
    return path.relative(ROOT, file);
  };
  for (const [id, time] of self) {
    const { callFrame } = byId.get(id);
    const name = `${callFrame.functionName || '(anonymous)'} ${placeOf(callFrame.url)}:${callFrame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + time);
    const place = placeOf(callFrame.url);
    places.set(place, (places.get(place) ?? 0) + time);
  }
  const top = (map, count) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, time]) => `${((100 * time) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  const busy = (100 * total) / (total + idleTime);
  return `busy ${busy.toFixed(1)}% of the profile; shares below are of the busy time\n\nby file / package (self time):\n${top(places, 25)}\n\nby function (self time):\n${top(functions, 40)}\n`;
}
