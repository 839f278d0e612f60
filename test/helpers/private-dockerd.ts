import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connectEngine, type DockerEngine } from '../../src/runtime/modules/docker/docker-engine.js';

/**
 * A Docker engine of a test's own, beside the shared one: its own data, exec root, socket and
 * containerd namespace, so that the test may stop and start it while other tests use theirs.
 * Needs root and dockerd on PATH (both as .ci/run sets up).
 */
export class PrivateDockerd {
  private child?: ChildProcess;
  private dir = '';
  output = '';

  get uri(): string {
    return `unix://${join(this.dir, 'docker.sock')}`;
  }

  /** Why this machine cannot run one, or false. */
  static missing(): string | false {
    if (process.getuid?.() !== 0) return 'a private dockerd needs root';
    return spawnSync('dockerd', ['--version']).status === 0 ? false : 'dockerd is not installed';
  }

  async start(): Promise<DockerEngine> {
    this.dir ||= await mkdtemp(join(tmpdir(), 'iotedge-test-dockerd-'));
    const namespace = `iotedge-test-${process.pid}`;
    const child = spawn(
      'dockerd',
      [
        '--bridge=none',
        '--iptables=false',
        `--data-root=${join(this.dir, 'data')}`,
        `--exec-root=${join(this.dir, 'exec')}`,
        `--pidfile=${join(this.dir, 'dockerd.pid')}`,
        `--host=${this.uri}`,
        `--containerd-namespace=${namespace}`,
        `--containerd-plugins-namespace=${namespace}-plugins`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout!.on('data', (chunk) => (this.output += chunk));
    child.stderr!.on('data', (chunk) => (this.output += chunk));
    for (let attempt = 0; attempt < 300; attempt++) {
      if (child.exitCode !== null) throw new Error(`dockerd exited ${child.exitCode}:\n${this.output}`);
      try {
        return await connectEngine(this.uri, undefined, 1000);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`dockerd did not answer on ${this.uri}:\n${this.output}`);
  }

  /** Stops the engine as systemd would (SIGTERM: it stops its containers, then exits). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    if (!this.dir) return;
    // dockerd leaves its network namespace mounted under the exec root
    const mounts = (await readFile('/proc/self/mounts', 'utf8'))
      .split('\n')
      .map((line) => line.split(' ')[1]);
    for (const mount of mounts.filter((point) => point?.startsWith(`${this.dir}/`)).reverse()) {
      spawnSync('umount', ['-l', mount]);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
