import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { LogLine, LogOptions } from '../modules/types.js';
import { ChangeSignal } from '../modules/process/log-files.js';
import { readLogs } from '../modules/process/log-reader.js';
import { LogWriter } from '../modules/process/log-writer.js';
import {
  embeddedModuleLine,
  storedTexts,
  tagged,
  type ComponentTag,
  type EmbeddedModule,
} from './daemon-log-lines.js';

/** Where iotedged keeps its own log: <homedir>/logs/iotedged/current.log, current.log.1 ... */
export const daemonLogDir = (homedir: string): string => path.join(homedir, 'logs', 'iotedged');

export interface DaemonLogOptions {
  dir: string;
  /** current.log is rotated before it would grow past this size (default 10 MiB). */
  maxBytes?: number;
  /** Files kept, current.log included (default 3). */
  files?: number;
  /** Lines waiting for the disk beyond this many are dropped and counted as lost (default 10,000). */
  maxPending?: number;
  /** After a failed write, lines are counted as lost without trying the disk for this long (default 5 s). */
  retryMs?: number;
  /** Where every line goes at once (default: the process's stderr). */
  stderr?: (text: string) => void;
  /** The time each line is stamped with. */
  now?: () => Date;
}

/** What the management API reads: the daemon's lines, or those of one embedded module. */
export interface DaemonLogReader {
  read(options: LogOptions, module: EmbeddedModule | undefined, signal?: AbortSignal): AsyncIterable<LogLine>;
}

/**
 * iotedged's log: every line goes to stderr at once, as it always has (journald reads it there),
 * and is also appended, in the background, to rotated files that `iotedge logs edgeAgent|edgeHub`
 * and `iotedge system logs` read. The files never hold the daemon up: writes are queued, and lines
 * the disk does not take (a failing or full disk, a queue that outgrew maxPending) are counted as
 * lost and reported once the files can be written again; nothing here throws.
 */
export class DaemonLog implements DaemonLogReader {
  readonly changes = new ChangeSignal();
  private pending: LogLine[] = [];
  private writer: LogWriter | undefined;
  private draining: Promise<void> | undefined;
  private lostLines = 0;
  /** Lines lost since the files last took a write, reported when they take one again. */
  private lostUnreported = 0;
  /** Whether the last write failed (said once on stderr); no write is tried before retryAt. */
  private failing = false;
  private retryAt = 0;
  private closed = false;
  private readonly now: () => Date;
  private readonly stderr: (text: string) => void;

  private constructor(private readonly options: DaemonLogOptions) {
    this.now = options.now ?? (() => new Date());
    this.stderr = options.stderr ?? ((text) => void process.stderr.write(text));
  }

  /** Opens the files (a failure is reported on stderr and retried later; the log works regardless). */
  static async open(options: DaemonLogOptions): Promise<DaemonLog> {
    const log = new DaemonLog(options);
    await log.openWriter().catch((error: unknown) => log.failed(error, 0));
    return log;
  }

  /** Lines that never reached the files since the daemon started. */
  get lost(): number {
    return this.lostLines;
  }

  /** Logs a line of the daemon's own (stderr now, the files soon). Never throws. */
  line(text: string): void {
    const time = this.now();
    this.say(time, text);
    if (!this.closed) this.queue(time, text);
  }

  /** A logger for one component: its lines carry its tag (`agent: …`). */
  component(tag: ComponentTag): (text: string) => void {
    return (text) => this.line(tagged(tag, text));
  }

  read(
    options: LogOptions,
    module: EmbeddedModule | undefined,
    signal?: AbortSignal,
  ): AsyncIterable<LogLine> {
    return readLogs(
      {
        ...options,
        dir: this.options.dir,
        files: this.files,
        changes: this.changes,
        now: this.now,
        ...(module ? { select: (line: LogLine) => embeddedModuleLine(module, line) } : {}),
      },
      signal,
    );
  }

  /**
   * Writes what is queued (waiting at most waitMs for a disk that does not answer), then closes the
   * files; later lines go to stderr only.
   */
  async close(waitMs = 5_000): Promise<void> {
    this.closed = true;
    const flushed = (async () => {
      while (this.draining) await this.draining;
      await this.writer?.close().catch(() => undefined);
      this.writer = undefined;
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([flushed, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  private get files(): number {
    return this.options.files ?? 3;
  }

  private async openWriter(): Promise<LogWriter> {
    // the daemon's lines are for the operator (through iotedged), not for every local user
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    this.writer = await LogWriter.open({
      dir: this.options.dir,
      maxBytes: this.options.maxBytes ?? 10 * 1024 * 1024,
      files: this.files,
      onChange: () => this.changes.bump(),
    });
    return this.writer;
  }

  private queue(time: Date, text: string): void {
    for (const stored of storedTexts(text)) {
      if (this.pending.length >= (this.options.maxPending ?? 10_000)) this.lose(1);
      else this.pending.push({ time, stream: 'stderr', text: stored });
    }
    this.drain();
  }

  private drain(): void {
    if (this.draining || this.pending.length === 0) return;
    this.draining = this.writeQueued().finally(() => {
      this.draining = undefined;
      this.drain();
    });
  }

  private async writeQueued(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      if (Date.now() < this.retryAt) {
        this.lose(batch.length);
        continue;
      }
      try {
        const writer = this.writer ?? (await this.openWriter());
        await writer.append(batch);
      } catch (error) {
        this.failed(error, batch.length);
        continue;
      }
      if (this.lostUnreported > 0) this.recovered();
    }
  }

  private say(time: Date, text: string): void {
    try {
      this.stderr(`${time.toISOString()} ${text}\n`);
    } catch {
      // stderr is gone: the files still get the line
    }
  }

  private lose(count: number): void {
    this.lostLines += count;
    this.lostUnreported += count;
  }

  /** The files could not take a write: say so once (on stderr), count the lines, retry after retryMs. */
  private failed(error: unknown, lines: number): void {
    this.lose(lines);
    this.retryAt = Date.now() + (this.options.retryMs ?? 5_000);
    const broken = this.writer;
    this.writer = undefined;
    void broken?.close().catch(() => undefined);
    if (this.failing) return;
    this.failing = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.say(
      this.now(),
      `iotedged: cannot write the daemon log in ${this.options.dir}: ${reason}; its lines go to stderr only until it can`,
    );
  }

  /** The files took a write after lines were lost: the count goes to the log itself (even while closing). */
  private recovered(): void {
    const lost = this.lostUnreported;
    this.lostUnreported = 0;
    this.failing = false;
    this.retryAt = 0;
    const time = this.now();
    const text = `iotedged: ${lost} line(s) of the daemon log were lost before this one`;
    this.say(time, text);
    // past maxPending if need be: this line says what the cap dropped
    this.pending.push({ time, stream: 'stderr', text });
  }
}
