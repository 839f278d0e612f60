import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { LogLine } from '../types.js';
import { LineSplitter } from './log-format.js';
import type { LogAppender } from './log-losses.js';

/**
 * Reads one of a module's output FIFOs, stamps each line with the time it arrived and the stream,
 * and hands it to the module's log. Reading waits for each write to finish, so a module that
 * writes faster than the disk takes is slowed down by the full pipe instead of filling memory.
 * The FIFO is read through a libuv pipe handle (non-blocking, epoll), not the thread pool.
 */
export class LogPump {
  /** Settles when the FIFO reaches end of file (every writer is gone) or the pump is destroyed. */
  readonly done: Promise<void>;
  private readonly socket: Socket;

  constructor(
    fifo: string,
    private readonly stream: LogLine['stream'],
    private readonly writer: LogAppender,
    private readonly now: () => Date,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {
    // Opening for reading without O_NONBLOCK would block until a writer appears.
    const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    this.socket = new Socket({ fd, readable: true, writable: false });
    this.done = this.pump();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private async pump(): Promise<void> {
    const decoder = new StringDecoder('utf8');
    const splitter = new LineSplitter();
    try {
      for await (const chunk of this.socket) {
        await this.store(splitter.push(decoder.write(chunk as Buffer)));
      }
    } catch {
      // destroyed: keep what was already read
    }
    await this.store([...splitter.push(decoder.end()), ...splitter.flush()]);
  }

  private async store(texts: string[]): Promise<void> {
    if (!texts.length) return;
    const time = this.now();
    try {
      await this.writer.append(texts.map((text) => ({ time, stream: this.stream, text })));
    } catch (error) {
      // A full or failing disk must not stop the draining: the module would block on its output.
      this.onError(error as Error);
    }
  }
}
