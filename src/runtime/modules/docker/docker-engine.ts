import type Dockerode from 'dockerode';

import { ReasonedError } from '../../reasoned-error.js';
import { unixSocketPath } from '../../socket-uri.js';

/** A container engine that answered: its client, the URI it was reached at, and its version. */
export interface DockerEngine {
  uri: string;
  serverVersion: string;
  client: Dockerode;
}

/** Why an engine could not be reached; `permission-denied` is worth telling apart (run as root). */
export type EngineFailureReason = 'invalid-uri' | 'permission-denied' | 'not-running' | 'timeout' | 'other';

export class ContainerEngineError extends ReasonedError<EngineFailureReason> {
  override readonly name = 'ContainerEngineError';
  constructor(
    message: string,
    reason: EngineFailureReason,
    readonly uri: string,
    options?: { cause?: unknown },
  ) {
    super(reason, message, options);
  }
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * The local socket (or named pipe) behind a container engine URI. Only `unix://` (and `npipe://` on
 * Windows) are accepted: the engine is always a local daemon for IoT Edge.
 */
export function engineSocketPath(uri: string, platform: NodeJS.Platform = process.platform): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ContainerEngineError(`The container engine URI ${uri} is not a valid URI.`, 'invalid-uri', uri);
  }
  const socketPath = url.pathname !== '' ? unixSocketPath(url) : undefined;
  if (socketPath !== undefined) return socketPath;
  const scheme = url.protocol.slice(0, -1);
  if (scheme === 'npipe' && platform === 'win32') {
    // npipe://./pipe/docker_engine names the pipe \\.\pipe\docker_engine.
    return `//${url.hostname || '.'}${decodeURIComponent(url.pathname)}`;
  }
  const expected = platform === 'win32' ? 'unix or npipe' : 'unix';
  throw new ContainerEngineError(
    `The scheme ${scheme} of the container engine URI ${uri} is invalid (expected ${expected}).`,
    'invalid-uri',
    uri,
  );
}

const codesOf = (error: unknown): string[] => {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 10; depth += 1) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') codes.push(code);
    current = current.cause;
  }
  return codes;
};

/** Turns a failed request to the engine into an error that names the URI and the kind of failure. */
export function describeEngineFailure(uri: string, socketPath: string, error: unknown): ContainerEngineError {
  if (error instanceof ContainerEngineError) return error;
  const codes = codesOf(error);
  if (codes.includes('EACCES') || codes.includes('EPERM')) {
    return new ContainerEngineError(
      `Permission denied while connecting to the container engine at ${uri} (socket ${socketPath}).`,
      'permission-denied',
      uri,
      { cause: error },
    );
  }
  if (codes.includes('ENOENT') || codes.includes('ECONNREFUSED')) {
    const detail = codes.includes('ENOENT')
      ? `no socket at ${socketPath}`
      : `connection refused on ${socketPath}`;
    return new ContainerEngineError(
      `The container engine at ${uri} is not running (${detail}).`,
      'not-running',
      uri,
      { cause: error },
    );
  }
  return new ContainerEngineError(
    `The container engine at ${uri} did not answer as expected.`,
    'other',
    uri,
    {
      cause: error,
    },
  );
}

type SignalOptions = { abortSignal?: AbortSignal };

/**
 * Connects to the engine at `uri`, checks that it answers (`/_ping`) and reads its version.
 * dockerode is imported lazily: it is heavy and most CLI commands never need it.
 */
export async function connectEngine(
  uri: string,
  signal?: AbortSignal,
  timeoutMs: number = DEFAULT_CONNECT_TIMEOUT_MS,
): Promise<DockerEngine> {
  const socketPath = engineSocketPath(uri);
  const { default: Docker } = await import('dockerode');
  const client = new Docker({ socketPath });
  const timeout = AbortSignal.timeout(timeoutMs);
  const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
  // The typings omit the options argument that dockerode accepts for these two calls.
  const ping = client.ping.bind(client) as unknown as (options: SignalOptions) => Promise<unknown>;
  const version = client.version.bind(client) as unknown as (
    options: SignalOptions,
  ) => Promise<Dockerode.DockerVersion>;
  try {
    await ping({ abortSignal });
    const info = await version({ abortSignal });
    return { uri, serverVersion: String(info.Version ?? '').trim(), client };
  } catch (error) {
    if (timeout.aborted && !signal?.aborted) {
      throw new ContainerEngineError(
        `The container engine at ${uri} did not answer within ${timeoutMs / 1000} seconds.`,
        'timeout',
        uri,
        { cause: error },
      );
    }
    throw describeEngineFailure(uri, socketPath, error);
  }
}

export type EngineAvailability =
  { available: true; engine: DockerEngine } | { available: false; reason: string };

/** For tests: whether an engine answers at `uri`, with a reason to print when it does not. */
export async function dockerAvailable(uri: string, timeoutMs = 5_000): Promise<EngineAvailability> {
  try {
    return { available: true, engine: await connectEngine(uri, undefined, timeoutMs) };
  } catch (error) {
    return {
      available: false,
      reason: `no container engine answers at ${uri}: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** True when the engine said the object (container, image, network) does not exist. */
export function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: unknown } | null)?.statusCode === 404;
}
