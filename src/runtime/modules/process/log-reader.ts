import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogLine, LogOptions } from '../types.js';
import { parseLogLine, withinWindow } from './log-format.js';
import { ChangeSignal, CURRENT_LOG, logFilePaths } from './log-files.js';

export interface ReadLogsRequest extends LogOptions {
  dir: string;
  files: number;
  /** Bumped by the module's writer; without it a follower polls every pollMs. */
  changes?: ChangeSignal;
  now?: () => Date;
  pollMs?: number;
  /**
   * Keeps a line (and may rewrite it) or skips it (undefined), after since/until and before tail
   * counts, so that `tail` means the last N lines selected.
   */
  select?: (line: LogLine) => LogLine | undefined;
}

/** Reads a log file's complete lines from a byte position onwards (to the end as it is now). */
class LineCursor {
  private remainder: Buffer = Buffer.alloc(0);
  private position = 0;

  constructor(
    readonly handle: FileHandle,
    readonly ino: number,
  ) {}

  async *lines(): AsyncGenerator<string> {
    const { size } = await this.handle.stat();
    if (size < this.position) {
      // truncated (a single log file rotates by starting afresh)
      this.position = 0;
      this.remainder = Buffer.alloc(0);
    }
    const buffer = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.position);
      if (bytesRead === 0) return;
      this.position += bytesRead;
      const data = Buffer.concat([this.remainder, buffer.subarray(0, bytesRead)]);
      let start = 0;
      const found: string[] = [];
      for (let newline = data.indexOf(10); newline >= 0; newline = data.indexOf(10, start)) {
        found.push(data.toString('utf8', start, newline));
        start = newline + 1;
      }
      this.remainder = data.subarray(start);
      yield* found;
    }
  }

  close(): Promise<void> {
    return this.handle.close().catch(() => undefined);
  }
}

/**
 * Opens the log files newest first and returns them oldest first, skipping a file seen twice (a
 * rotation in between renamed it) and stopping at `olderThan` (the inode a follower already read):
 * a rotation while opening never loses a file.
 */
async function openChain(dir: string, files: number, olderThan?: number): Promise<LineCursor[]> {
  const chain: LineCursor[] = [];
  const seen = new Set<number>();
  for (const path of logFilePaths(dir, files).reverse()) {
    const handle = await open(path, 'r').catch(() => undefined);
    if (!handle) continue;
    const { ino } = await handle.stat();
    if (ino === olderThan || seen.has(ino)) {
      await handle.close();
      if (ino === olderThan) break;
      continue;
    }
    seen.add(ino);
    chain.unshift(new LineCursor(handle, ino));
  }
  return chain;
}

class Ring<T> {
  private items: T[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  push(item: T): void {
    if (this.size <= 0) return;
    if (this.items.length < this.size) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.size;
  }

  ordered(): T[] {
    return this.items.length < this.size
      ? this.items
      : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}

const inodeOf = (path: string) =>
  stat(path).then(
    (info) => info.ino,
    () => undefined,
  );

/**
 * A module's stored log lines, oldest first, across its rotated files: since/until applied first,
 * then tail (the last N of what remains); with follow, new lines as they are written (through
 * rotations) until the signal aborts, until's moment passes, or the module's logs are removed.
 */
export async function* readLogs(request: ReadLogsRequest, signal?: AbortSignal): AsyncGenerator<LogLine> {
  const { dir, files, since, until, tail, changes, select } = request;
  const now = request.now ?? (() => new Date());
  const currentPath = join(dir, CURRENT_LOG);
  const held = new Set<LineCursor>();
  const release = async (cursor: LineCursor) => {
    held.delete(cursor);
    await cursor.close();
  };
  const parse = async function* (cursor: LineCursor): AsyncGenerator<LogLine> {
    for await (const raw of cursor.lines()) {
      if (signal?.aborted) return;
      const parsed = parseLogLine(raw);
      if (!parsed || !withinWindow(parsed.time, since, until)) continue;
      const line = select ? select(parsed) : parsed;
      if (line) yield line;
    }
  };
  try {
    const chain = await openChain(dir, files);
    chain.forEach((cursor) => held.add(cursor));
    let current = chain.at(-1);
    const ring = tail === undefined ? undefined : new Ring<LogLine>(tail);
    for (const cursor of chain) {
      for await (const line of parse(cursor)) {
        if (ring) ring.push(line);
        else yield line;
      }
      if (cursor !== current) await release(cursor);
    }
    if (ring) yield* ring.ordered();
    if (!request.follow) return;
    for (;;) {
      if (signal?.aborted || (until !== undefined && now().getTime() > until * 1000)) return;
      const seen = changes?.version ?? 0;
      if (current) yield* parse(current);
      const ino = await inodeOf(currentPath);
      if (ino !== undefined && ino !== current?.ino) {
        // rotated (or created): finish the old file, then read everything written after it
        const older = current;
        if (older) {
          yield* parse(older);
          await release(older);
        }
        const newer = await openChain(dir, files, older?.ino);
        newer.forEach((cursor) => held.add(cursor));
        current = newer.at(-1);
        for (const cursor of newer.slice(0, -1)) {
          yield* parse(cursor);
          await release(cursor);
        }
        continue;
      }
      if (ino === undefined && !(await inodeOf(dir))) return;
      await (changes ?? new ChangeSignal()).wait(seen, request.pollMs ?? 1000, signal);
    }
  } finally {
    await Promise.all([...held].map((cursor) => cursor.close()));
  }
}
