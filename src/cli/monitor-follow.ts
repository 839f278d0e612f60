import { once } from 'node:events';
import type { MonitorLine } from '../runtime/hub/monitor/monitor-event.js';
import { isMonitorMessage } from '../runtime/hub/monitor/monitor-event.js';
import { parseMonitorLine } from './monitor-render.js';

export interface FollowOptions {
  /** Stop after this many messages. */
  count?: number;
  /** Stop after this many ms without a message (none: follow until the stream ends or is aborted). */
  idleMs?: number;
}

export interface FollowOutcome {
  /** Messages shown. */
  messages: number;
  /** Messages the daemon left out because this reader fell behind. */
  dropped: number;
  /** Why it stopped. */
  end: 'count' | 'timeout' | 'closed' | 'aborted';
}

/**
 * Reads the monitor stream `open` returns, hands each line to `show`, and stops at `count` messages,
 * after `idleMs` without one, when the daemon ends the stream, or when `signal` aborts (Ctrl-C, a closed
 * stdout). The request is aborted on every way out, so that the daemon forgets the watcher at once.
 */
export async function followMonitor(
  open: (signal: AbortSignal) => Promise<AsyncIterable<Buffer>>,
  options: FollowOptions,
  show: (line: MonitorLine) => Promise<void> | void,
  signal?: AbortSignal,
): Promise<FollowOutcome> {
  const abort = new AbortController();
  const outcome: FollowOutcome = { messages: 0, dropped: 0, end: 'closed' };
  const stop = (end: FollowOutcome['end']) => {
    if (outcome.end === 'closed') outcome.end = end;
    abort.abort();
  };
  const onAbort = () => stop('aborted');
  signal?.addEventListener('abort', onAbort, { once: true });
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (options.idleMs === undefined) return;
    clearTimeout(idle);
    idle = setTimeout(() => stop('timeout'), options.idleMs);
  };
  try {
    if (signal?.aborted) return { ...outcome, end: 'aborted' };
    armIdle();
    const body = await open(abort.signal);
    for await (const text of textLines(body)) {
      if (abort.signal.aborted) break;
      if (text.trim() === '') continue;
      const line = parseMonitorLine(text);
      if (isMonitorMessage(line)) {
        outcome.messages++;
        armIdle();
      } else outcome.dropped += line.dropped;
      await show(line);
      if (abort.signal.aborted) break;
      if (options.count !== undefined && outcome.messages >= options.count) {
        stop('count');
        break;
      }
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    clearTimeout(idle);
    signal?.removeEventListener('abort', onAbort);
    abort.abort();
  }
  return outcome;
}

/** The lines of a byte stream (without their line feeds); a last line without one too. */
export async function* textLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let start = 0;
    for (let end = pending.indexOf(10); end !== -1; end = pending.indexOf(10, start)) {
      yield pending.subarray(start, end).toString('utf8');
      start = end + 1;
    }
    pending = pending.subarray(start);
  }
  if (pending.length > 0) yield pending.toString('utf8');
}

/** Writes to stdout, waiting while it is full. */
export async function writeOut(text: string, signal: AbortSignal): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain', { signal });
}
