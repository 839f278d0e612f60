import { isNotFound, type DockerEngine } from '../../runtime/modules/docker/docker-engine.js';

export interface DiagnosticsRunOptions {
  /** HostConfig.NetworkMode; the engine's default network when absent. */
  network?: string;
  /** `host-path:container-path[:ro]` bind mounts. */
  binds?: string[];
  /** `NAME=value` entries. */
  env?: string[];
  signal: AbortSignal;
}

export interface DiagnosticsRunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Marks the short-lived containers of `iotedge check`, so a leftover one can be recognised. */
export const RUN_LABEL = 'net.azure-devices.edge.diagnostics.run';

const OUTPUT_LIMIT = 1 << 20;

/** Splits Docker's multiplexed (non-TTY) attach stream into stdout and stderr; each keeps its first MiB. */
export class StreamDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  private readonly sizes = { stdout: 0, stderr: 0 };

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    // Frame: 1 byte stream type (1 stdout, 2 stderr), 3 zero bytes, 4 bytes big-endian payload length.
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const target = this.pending[0] === 2 ? 'stderr' : 'stdout';
      this.keep(target, this.pending.subarray(8, 8 + size));
      this.pending = this.pending.subarray(8 + size);
    }
  }

  text(stream: 'stdout' | 'stderr'): string {
    return Buffer.concat(this.chunks[stream]).toString('utf8');
  }

  private keep(stream: 'stdout' | 'stderr', payload: Buffer): void {
    const room = OUTPUT_LIMIT - this.sizes[stream];
    if (room <= 0) return;
    const kept = payload.length > room ? payload.subarray(0, room) : payload;
    this.chunks[stream].push(Buffer.from(kept));
    this.sizes[stream] += kept.length;
  }
}

/**
 * Runs the diagnostics image once with `args` (create, attach, start, wait, remove) and returns its exit code
 * and output. The container is removed here rather than with AutoRemove, which races with reading its
 * output; on abort it is killed and removed, and the promise rejects with the signal's reason.
 */
export async function runDiagnostics(
  engine: DockerEngine,
  image: string,
  args: string[],
  options: DiagnosticsRunOptions,
): Promise<DiagnosticsRunResult> {
  const { signal } = options;
  signal.throwIfAborted();
  // No abort signal on create: an aborted create could leave a container whose id we never learn.
  const container = await engine.client.createContainer({
    Image: image,
    Cmd: args,
    Env: options.env,
    Labels: { [RUN_LABEL]: 'true' },
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    HostConfig: { NetworkMode: options.network, Binds: options.binds, AutoRemove: false },
  });

  let removal: Promise<void> | undefined;
  const remove = (): Promise<void> =>
    (removal ??= container.remove({ force: true }).then(
      () => undefined,
      (error: unknown) => {
        if (!isNotFound(error))
          throw new Error(`Could not remove diagnostics container ${container.id}`, { cause: error });
      },
    ));
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      remove().catch(() => undefined);
      reject(signal.reason);
    };
  });
  aborted.catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const step = <T>(work: Promise<T>): Promise<T> => Promise.race([work, aborted]);

  try {
    const stream = await step(container.attach({ stream: true, stdout: true, stderr: true }));
    const demuxer = new StreamDemuxer();
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => demuxer.push(chunk));
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', reject);
    });
    await step(container.start());
    const { StatusCode } = (await step(container.wait())) as { StatusCode: number };
    await step(ended);
    return { exitCode: StatusCode, stdout: demuxer.text('stdout'), stderr: demuxer.text('stderr') };
  } finally {
    signal.removeEventListener('abort', onAbort);
    await remove();
  }
}
