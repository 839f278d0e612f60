import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogLine } from '../types.js';
import { formatLogLine } from './log-format.js';
import { CURRENT_LOG, LOG_DIR_MODE, LOG_FILE_MODE } from './log-files.js';
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
 * Appends are serialised; each batch is written with as few writes as rotation allows. Files are
 * 0640 in a 0750 directory: logs may tell more than other local users should read.
 *
 * A write the disk refuses (a full disk) rejects the append and leaves no part of a line behind:
 * the file is cut back to its last complete line, so the next append starts on a line of its
 * own; a rotation that could not open the new file is opened again by the next append.
 */
export class LogWriter {
  private readonly serial = new Serial();

  private constructor(
    private readonly options: LogWriterOptions,
    private handle: FileHandle | undefined,
    private size: number,
  ) {}

  static async open(options: LogWriterOptions): Promise<LogWriter> {
    await mkdir(options.dir, { recursive: true, mode: LOG_DIR_MODE });
    const handle = await open(join(options.dir, CURRENT_LOG), 'a', LOG_FILE_MODE);
    // a file made by an earlier release may be readable by everyone
    await handle.chmod(LOG_FILE_MODE);
    const { size } = await handle.stat();
    return new LogWriter({ ...options, files: Math.max(1, options.files) }, handle, size);
  }

  append(lines: LogLine[]): Promise<void> {
    return this.serial.run(() => this.write(lines));
  }

  close(): Promise<void> {
    return this.serial.run(async () => {
      await this.handle?.close();
      this.handle = undefined;
    });
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
    const handle = this.handle ?? (await this.reopen());
    try {
      // a short write (the disk filling up) is not an error yet: the rest is written again
      const data = Buffer.concat(batch, bytes);
      for (let done = 0; done < data.length;) {
        const { bytesWritten } = await handle.write(data, done, data.length - done);
        if (bytesWritten === 0)
          throw Object.assign(new Error('the log file takes no more bytes'), { code: 'EIO' });
        done += bytesWritten;
      }
    } catch (error) {
      // a part of the batch may have reached the file: cutting it off frees what it took
      await handle.truncate(this.size).catch(() => undefined);
      throw error;
    }
    this.size += bytes;
    this.options.onChange?.();
  }

  private async reopen(): Promise<FileHandle> {
    const handle = await open(join(this.options.dir, CURRENT_LOG), 'a', LOG_FILE_MODE);
    this.size = (await handle.stat()).size;
    this.handle = handle;
    return handle;
  }

  private async rotate(): Promise<void> {
    const { dir, files } = this.options;
    const old = this.handle;
    this.handle = undefined;
    await old?.close();
    const name = (index: number) => join(dir, index === 0 ? CURRENT_LOG : `${CURRENT_LOG}.${index}`);
    // With files == 1 the current file is simply started afresh.
    for (let index = files - 1; index >= 1; index--) {
      await rename(name(index - 1), name(index)).catch(() => undefined);
    }
    this.handle = await open(name(0), files === 1 ? 'w' : 'a', LOG_FILE_MODE);
    this.size = 0;
    this.options.onChange?.();
  }
}
