import { CliError } from './cli-error.js';

const REASONS: Record<string, string> = {
  ENOENT: 'no such socket (is iotedged running?)',
  ECONNREFUSED: 'connection refused (is iotedged running?)',
  EACCES: 'permission denied (run the command with sudo, or as a member of the iotedge group)',
  EPERM: 'permission denied (run the command with sudo, or as a member of the iotedge group)',
  ENOTSOCK: 'the path is not a socket',
  ECONNRESET: 'the daemon closed the connection',
  ENOTFOUND: 'unknown host name',
  ETIMEDOUT: 'the daemon did not answer in time',
};

/** The one line shown when the daemon cannot be reached at `host`. */
export function unreachableMessage(host: string, error: NodeJS.ErrnoException): string {
  const reason = (error.code && REASONS[error.code]) ?? error.message;
  return `Could not connect to the IoT Edge daemon at ${host}: ${reason}`;
}

/** The daemon is not there (no socket, nobody listening, no permission). */
export class DaemonUnreachableError extends CliError {
  constructor(
    readonly host: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }

  static from(host: string, error: NodeJS.ErrnoException): DaemonUnreachableError {
    return new DaemonUnreachableError(host, error.code, unreachableMessage(host, error));
  }
}

/** The daemon answered with an error status; the message is the one from its JSON body. */
export class ManagementApiError extends CliError {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The message of an error response: `{"message": "..."}` when the body has one, else the status. */
export function apiErrorMessage(status: number, statusText: string, body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message;
  } catch {
    // not JSON: fall through to the status line
  }
  return `The IoT Edge daemon answered ${status} ${statusText}`.trimEnd();
}
