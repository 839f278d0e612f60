import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogLine } from '../types.js';
import { formatLogLine } from './log-format.js';
import { CURRENT_LOG } from './log-files.js';
import { Serial } from '../../serial.js';

export interface LogWriterOptions {
  dir: string;
  /** current.log is rotated before it would grow past this size. */
  maxBytes: number;
  /** How many files in all: current.log plus files-1 rotated ones. */
  files: number;
  /** Told after every write and rotation (follow readers wait on it). */
  onChange?: () => void;
}

/**
 * Appends formatted lines to <dir>/current.log, rotating current.log -> current.log.1 -> ... and
 * dropping the oldest, so a module's logs never take more than about maxBytes * files on disk.
 * Appends are serialised; each batch is written with as few writes as rotation allows.
 */
export class LogWriter {
  private readonly serial = new Serial();

  private constructor(
    private readonly options: LogWriterOptions,
    private handle: FileHandle,
    private size: number,
  ) {}

  static async open(options: LogWriterOptions): Promise<LogWriter> {
    await mkdir(options.dir, { recursive: true });
    const handle = await open(join(options.dir, CURRENT_LOG), 'a', 0o644);
    const { size } = await handle.stat();
    return new LogWriter({ ...options, files: Math.max(1, options.files) }, handle, size);
  }

  append(lines: LogLine[]): Promise<void> {
    return this.serial.run(() => this.write(lines));
  }

  close(): Promise<void> {
    return this.serial.run(() => this.handle.close());
  }

  private async write(lines: LogLine[]): Promise<void> {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.from(formatLogLine(line));
      if (this.size + batchBytes > 0 && this.size + batchBytes + bytes.length > this.options.maxBytes) {
        await this.flush(batch, batchBytes);
        batch = [];
        batchBytes = 0;
        await this.rotate();
      }
      batch.push(bytes);
      batchBytes += bytes.length;
    }
    await this.flush(batch, batchBytes);
  }

  private async flush(batch: Buffer[], bytes: number): Promise<void> {
    if (!batch.length) return;
    await this.handle.write(Buffer.concat(batch, bytes));
    this.size += bytes;
    this.options.onChange?.();
  }

  private async rotate(): Promise<void> {
    const { dir, files } = this.options;
    await this.handle.close();
    const name = (index: number) => join(dir, index === 0 ? CURRENT_LOG : `${CURRENT_LOG}.${index}`);
    // With files == 1 the current file is simply started afresh.
    for (let index = files - 1; index >= 1; index--) {
      await rename(name(index - 1), name(index)).catch(() => undefined);
    }
    this.handle = await open(name(0), files === 1 ? 'w' : 'a', 0o644);
    this.size = 0;
    this.options.onChange?.();
  }
}
