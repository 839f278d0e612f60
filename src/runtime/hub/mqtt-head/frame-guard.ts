import { Buffer } from 'node:buffer';

/** Calls back with one whole packet: its bytes (fixed header included) and where its variable header starts. */
export type OnFrame = (packet: Buffer, bodyAt: number) => void;

/**
 * Cuts a connection's bytes into whole MQTT packets by their fixed headers, without parsing them,
 * and says why the connection must close as soon as a header announces a packet over
 * `maxRemainingLength` bytes, or the first packet is not a CONNECT (aedes would wait for such a
 * packet whole before refusing it). The bytes of a packet not yet whole are kept until it is.
 */
export class FrameGuard {
  /** Bytes of a packet not yet whole, in arrival order. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes the packet being buffered takes whole, once its header is known (0 until then). */
  private needed = 0;
  private first = true;
  private problem: string | undefined;

  constructor(private readonly maxRemainingLength: number) {}

  /**
   * Takes the next bytes and hands each packet they complete to `onFrame`, in order. undefined
   * while the connection may go on; once a problem is found, always that (and no packet more).
   */
  feed(bytes: Buffer, onFrame: OnFrame = () => undefined): string | undefined {
    if (this.problem !== undefined) return this.problem;
    let data = bytes;
    if (this.buffered > 0) {
      this.chunks.push(bytes);
      this.buffered += bytes.length;
      if (this.buffered < this.needed) return undefined;
      data = Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
    }
    this.needed = 0;
    let at = 0;
    while (at < data.length) {
      if (this.first && data[at]! >> 4 !== 1) return (this.problem = 'the first packet is not a CONNECT');
      this.first = false;
      let length = 0;
      let headerBytes = 0;
      for (let index = 1; index <= 4 && at + index < data.length; index++) {
        const byte = data[at + index]!;
        length += (byte & 0x7f) * 128 ** (index - 1);
        if ((byte & 0x80) === 0) {
          headerBytes = index + 1;
          break;
        }
        if (index === 4) return (this.problem = 'malformed remaining length');
      }
      if (headerBytes === 0) break;
      if (length > this.maxRemainingLength) {
        return (this.problem = `a packet of ${length} bytes is over the ${this.maxRemainingLength}-byte limit`);
      }
      const end = at + headerBytes + length;
      if (end > data.length) {
        this.needed = headerBytes + length;
        break;
      }
      onFrame(data.subarray(at, end), headerBytes);
      at = end;
    }
    if (at < data.length) {
      this.chunks.push(data.subarray(at));
      this.buffered = data.length - at;
    }
    return undefined;
  }
}
