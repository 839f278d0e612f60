import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

import { ROOT, eventually } from './daemon.js';

const LEAF = path.join(ROOT, 'test/fixtures/leaf-device.js');

/** A leaf device process (test/fixtures/leaf-device.js) and what it printed. */
export class LeafDevice {
  output = '';
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(connectionString: string, ca: string, count: number, x509?: { cert: string; key: string }) {
    this.process = spawn(process.execPath, [LEAF, String(count)], {
      env: {
        ...process.env,
        LEAF_CS: connectionString,
        LEAF_CA: ca,
        LEAF_CERT: x509?.cert,
        LEAF_KEY: x509?.key,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process.stdout!.on('data', (chunk) => (this.output += chunk));
    this.process.stderr!.on('data', (chunk) => (this.output += chunk));
    this.exited = new Promise((resolve) => this.process.once('exit', (code) => resolve(code)));
  }

  said(text: string | RegExp, timeoutMs = 20_000): Promise<string> {
    return eventually(
      async () =>
        (typeof text === 'string' ? this.output.includes(text) : text.test(this.output))
          ? this.output
          : undefined,
      `the leaf device to say ${text} (it said: ${JSON.stringify(this.output)})`,
      timeoutMs,
    );
  }

  stop(): Promise<number | null> {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill('SIGKILL');
    return this.exited;
  }
}
