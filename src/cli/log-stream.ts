import { once } from 'node:events';
import { decodeFrames, TruncatedLogStreamError } from '../runtime/daemon/log-frames.js';
import { CliError } from './cli-error.js';
import type { LogFlagValues } from './log-flags.js';
import type { LogsQuery } from './management-client.js';
import { parseTail, parseTimeArg } from './time-args.js';

/** The logs query of the flags; a bad value is a CliError naming the flag, before any request. */
export function logsQuery(flags: LogFlagValues, now: Date = new Date()): LogsQuery {
  return {
    follow: flags.follow === true,
    tail: parseTail(flags.tail),
    since: parseTimeArg(flags.since, 'since', now),
    until: flags.until === undefined ? undefined : parseTimeArg(flags.until, 'until', now),
    timestamps: flags.timestamps === true,
  };
}

/**
 * Writes every frame's payload of a log stream to stdout, in order. A closed stdout (`iotedge logs
 * m | head`) ends it quietly; a stream cut inside a frame is one clear error line.
 */
export async function printLogStream(
  open: (signal: AbortSignal) => Promise<AsyncIterable<Buffer>>,
): Promise<void> {
  const abort = new AbortController();
  process.stdout.on('error', () => abort.abort());
  try {
    const body = await open(abort.signal);
    for await (const frame of decodeFrames(body)) {
      if (abort.signal.aborted) break;
      if (!process.stdout.write(frame.payload)) await once(process.stdout, 'drain', { signal: abort.signal });
    }
  } catch (error) {
    if (abort.signal.aborted) return;
    throw error instanceof TruncatedLogStreamError ? new CliError(error.message) : error;
  }
}
