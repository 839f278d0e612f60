import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import assert from 'node:assert/strict';
import { demoPorts } from '../../src/demo/demo-layout.js';
import type { MonitorMessage } from '../../src/runtime/hub/monitor/monitor-event.js';
import { eventually } from './daemon.js';

/** Whether a loopback port is free now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A demo port base whose three hub ports are free now (random, so that parallel runs rarely meet). */
export async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    const free = await Promise.all(Object.values(demoPorts(base)).map(portFree));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free demo port base found');
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (killed after `timeoutMs`). */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The environment for the demo and the CLI: this node first on PATH (the demo's modules run `node`), no IOTEDGE_* of the caller. */
export function demoEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('IOTEDGE_')) env[key] = value;
  env.PATH = `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`;
  return env;
}

/**
 * The demo as `npm start` runs it from a checkout at `root` (`command`: the program and arguments that
 * start it, by default node on dist/src/demo/start.js), in its own directory and ports.
 */
export class DemoRun {
  private child: ChildProcess | undefined;
  output = '';
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;

  constructor(
    readonly root: string,
    readonly dir: string,
    readonly portBase: number,
    private readonly command: string[] = [process.execPath, 'dist/src/demo/start.js'],
    /**
     * Whether its agent may use the shared Docker engine (take the `docker-agent` lock then): an agent
     * removes the engine's containers of its kind that its deployment does not name.
     */
    private readonly docker = false,
  ) {}

  get host(): string {
    return `unix://${this.dir}/mgmt.sock`;
  }

  /** Starts the demo and resolves once its management socket exists. */
  async start(): Promise<void> {
    const [program, ...args] = this.command;
    const env = demoEnv();
    if (!this.docker) env.IOTEDGE_MOBY_RUNTIME__URI = `unix://${this.dir}/no-docker.sock`;
    const child = spawn(program!, [...args, '--dir', this.dir, '--port-base', String(this.portBase)], {
      cwd: this.root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await eventually(
      async () =>
        existsSync(path.join(this.dir, 'mgmt.sock')) ? true : child.exitCode !== null ? false : undefined,
      'the demo daemon to serve its management socket',
      120_000,
    ).then((up) => {
      if (!up) throw new Error(`the demo exited at start:\n${this.output}`);
    });
  }

  /** `iotedge monitor ARGS` from the checkout, against this demo. */
  monitor(args: string[], timeoutMs = 60_000): Promise<Run> {
    return run(process.execPath, [path.join(this.root, 'bin/run.js'), '-H', this.host, 'monitor', ...args], {
      cwd: this.root,
      env: demoEnv(),
      timeoutMs,
    });
  }

  /** `iotedge ARGS` from the checkout, against this demo. */
  cli(args: string[]): Promise<Run> {
    return run(process.execPath, [path.join(this.root, 'bin/run.js'), '-H', this.host, ...args], {
      cwd: this.root,
      env: demoEnv(),
    });
  }

  /** SIGTERM, then its exit (killed after 60 s). */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.child || !this.exited) throw new Error('the demo was not started');
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 60_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The messages of `iotedge monitor --json` output, one JSON object per line. */
export const monitorJsonLines = (stdout: string): MonitorMessage[] =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as MonitorMessage);

/** `count` alerts from the demo's filter as `$upstream` gets them, in `iotedge monitor --json` output. */
export function assertDemoAlerts(stdout: string, count: number): MonitorMessage[] {
  const lines = monitorJsonLines(stdout);
  assert.equal(lines.length, count);
  for (const line of lines) {
    assert.equal(line.endpoint, '$upstream');
    assert.deepEqual(line.origin, { deviceId: 'demo-device', moduleId: 'filter', outputName: 'output1' });
    assert.equal(line.properties.application.MessageType, 'Alert');
    assert.equal(line.bodyEncoding, 'json');
    assert.equal(typeof (line.body as { machine: { temperature: number } }).machine.temperature, 'number');
  }
  return lines;
}
