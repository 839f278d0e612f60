import type { LogLine } from '../types.js';

const HEADER_BYTES = 8;
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d) ?/;

/** Splits Docker's RFC 3339 (nanosecond) timestamp prefix from a log message. */
export function splitTimestamp(text: string): { time?: Date; text: string } {
  const match = TIMESTAMP.exec(text);
  if (!match) return { text };
  // Date keeps milliseconds only.
  const fraction = (match[2] ?? '').slice(0, 4);
  const time = new Date(`${match[1]}${fraction}${match[3]}`);
  return Number.isNaN(time.getTime()) ? { text } : { time, text: text.slice(match[0].length) };
}

type Stream = LogLine['stream'];

/**
 * Turns the engine's log stream (requested with timestamps) into lines. Multiplexed streams carry
 * 8-byte frame headers (byte 0: 1 stdout, 2 stderr); containers with a TTY send raw stdout.
 * A message longer than the engine's buffer arrives in several frames, each with its own timestamp:
 * the continuation's timestamp is dropped and the line keeps its first one.
 */
export class DockerLogDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending = new Map<Stream, { time: Date; text: string }>();

  constructor(
    private readonly multiplexed: boolean,
    private readonly now: () => Date = () => new Date(),
  ) {}

  push(chunk: Buffer): LogLine[] {
    if (!this.multiplexed) return this.message('stdout', chunk.toString('utf8'));
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const lines: LogLine[] = [];
    while (this.buffer.length >= HEADER_BYTES) {
      const size = this.buffer.readUInt32BE(4);
      if (this.buffer.length < HEADER_BYTES + size) break;
      const stream: Stream = this.buffer[0] === 2 ? 'stderr' : 'stdout';
      const payload = this.buffer.subarray(HEADER_BYTES, HEADER_BYTES + size).toString('utf8');
      this.buffer = this.buffer.subarray(HEADER_BYTES + size);
      lines.push(...this.message(stream, payload));
    }
    return lines;
  }

  /** Whatever is left without a final newline. */
  end(): LogLine[] {
    const lines = [...this.pending].map(([stream, { time, text }]) => ({ time, stream, text }));
    this.pending.clear();
    return lines;
  }

  private message(stream: Stream, payload: string): LogLine[] {
    const lines: LogLine[] = [];
    let rest = payload;
    while (rest.length > 0) {
      const { time, text } = splitTimestamp(rest);
      const previous = this.pending.get(stream);
      const newline = text.indexOf('\n');
      const piece = newline < 0 ? text : text.slice(0, newline);
      const current = previous
        ? { time: previous.time, text: previous.text + piece }
        : { time: time ?? this.now(), text: piece };
      if (newline < 0) {
        this.pending.set(stream, current);
        break;
      }
      this.pending.delete(stream);
      lines.push({ time: current.time, stream, text: current.text.replace(/\r$/, '') });
      rest = text.slice(newline + 1);
    }
    return lines;
  }
}

/** The last `tail` lines, for requests where the engine's own tail (applied before since/until) is wrong. */
export function lastLines<T>(lines: T[], tail: number | undefined): T[] {
  return tail === undefined ? lines : lines.slice(Math.max(0, lines.length - tail));
}
