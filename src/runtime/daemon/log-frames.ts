/**
 * Docker's multiplexed log framing, which GET /modules/{name}/logs uses as IoT Edge does: frames of
 * an 8-byte header (byte 0 the stream: 0 stdin, 1 stdout, 2 stderr; bytes 4-7 the big-endian payload
 * length) followed by the payload. The daemon encodes; the CLI decodes chunks that may split frames
 * anywhere.
 */

export interface LogFrame {
  stream: number;
  payload: Buffer;
}

const HEADER_BYTES = 8;

export function encodeLogFrame(stream: 'stdout' | 'stderr', text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Bytes received that do not make a whole frame yet. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Adds a chunk and returns the frames it completes, in order. */
  push(chunk: Buffer): LogFrame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: LogFrame[] = [];
    while (this.buffered >= HEADER_BYTES) {
      const header = this.peek(HEADER_BYTES);
      const length = header.readUInt32BE(4);
      if (this.buffered < HEADER_BYTES + length) break;
      const frame = this.take(HEADER_BYTES + length);
      frames.push({ stream: frame[0], payload: frame.subarray(HEADER_BYTES) });
    }
    return frames;
  }

  private peek(bytes: number): Buffer {
    if (this.chunks[0].length < bytes) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, bytes);
  }

  private take(bytes: number): Buffer {
    if (this.chunks[0].length < bytes) this.chunks = [Buffer.concat(this.chunks)];
    const head = this.chunks[0];
    const taken = head.subarray(0, bytes);
    if (head.length === bytes) this.chunks.shift();
    else this.chunks[0] = head.subarray(bytes);
    this.buffered -= bytes;
    return taken;
  }
}

/** A log stream that ended inside a frame (the daemon died or the connection broke mid-write). */
export class TruncatedLogStreamError extends Error {
  override readonly name = 'TruncatedLogStreamError';
}

/** The frames of a log stream; a stream that ends inside a frame throws TruncatedLogStreamError. */
export async function* decodeFrames(source: AsyncIterable<Buffer>): AsyncGenerator<LogFrame> {
  const decoder = new FrameDecoder();
  for await (const chunk of source) yield* decoder.push(chunk);
  if (decoder.pendingBytes > 0) {
    throw new TruncatedLogStreamError(
      `The log stream from the IoT Edge daemon ended in the middle of a frame (${decoder.pendingBytes} bytes left)`,
    );
  }
}
