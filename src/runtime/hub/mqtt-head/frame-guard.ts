/**
 * Follows the MQTT fixed headers in a connection's bytes without parsing packets: says why the
 * connection must close as soon as a header announces a packet over `maxRemainingLength` bytes, or
 * the first packet is not a CONNECT (aedes would wait for such a packet whole before refusing it).
 */
export class FrameGuard {
  /** Bytes of the current packet still to come. */
  private skip = 0;
  private readingLength = false;
  private length = 0;
  private lengthBytes = 0;
  private first = true;
  private problem: string | undefined;

  constructor(private readonly maxRemainingLength: number) {}

  /** undefined while the bytes may go on to the broker; once a problem is found, always that. */
  feed(bytes: Uint8Array): string | undefined {
    return (this.problem ??= this.scan(bytes));
  }

  private scan(bytes: Uint8Array): string | undefined {
    let at = 0;
    while (at < bytes.length) {
      if (this.skip > 0) {
        const taken = Math.min(this.skip, bytes.length - at);
        this.skip -= taken;
        at += taken;
      } else if (!this.readingLength) {
        if (this.first && bytes[at]! >> 4 !== 1) return 'the first packet is not a CONNECT';
        this.first = false;
        this.readingLength = true;
        this.length = 0;
        this.lengthBytes = 0;
        at++;
      } else {
        const byte = bytes[at++]!;
        this.length += (byte & 0x7f) * 128 ** this.lengthBytes++;
        if (byte & 0x80) {
          if (this.lengthBytes === 4) return 'malformed remaining length';
          continue;
        }
        if (this.length > this.maxRemainingLength) {
          return `a packet of ${this.length} bytes is over the ${this.maxRemainingLength}-byte limit`;
        }
        this.readingLength = false;
        this.skip = this.length;
      }
    }
    return undefined;
  }
}
