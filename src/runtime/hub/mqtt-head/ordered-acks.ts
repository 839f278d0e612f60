import type { Duplex } from 'node:stream';

/**
 * The acknowledgements of one connection's telemetry publishes, in the order the publishes
 * arrived (MQTT 3.1.1 has a receiver send its PUBACKs in that order): each publish's work (the hub
 * taking the message, durably) runs at once, its acknowledgement only once it and every earlier
 * one have settled. `pending` counts the publishes still waiting, so the head can stop taking more.
 */
export class OrderedAcks {
  private tail: Promise<void> = Promise.resolve();
  pending = 0;

  /** `acknowledge` after `work` (and every earlier publish) succeeded; `fail` when `work` failed. */
  add(work: Promise<unknown>, acknowledge: () => void, fail: (error: Error) => void): void {
    this.pending++;
    // a handler at once: a failure is never an unhandled rejection while earlier ones still wait
    const outcome = work.then(
      () => undefined,
      (error: Error) => error,
    );
    this.tail = this.tail
      .then(() => outcome)
      .then((error) => {
        this.pending--;
        if (error) fail(error);
        else acknowledge();
      });
  }

  /** Resolves once every publish added so far has been acknowledged or failed. */
  settled(): Promise<void> {
    return this.tail;
  }
}

/**
 * Writes an MQTT PUBACK (4 bytes) for `messageId`. The socket is corked until the current
 * callbacks and promise reactions have run, so the acknowledgements of one commit leave in one write.
 */
export function writePuback(socket: Duplex, messageId: number): void {
  if (socket.destroyed || !socket.writable) return;
  socket.cork();
  socket.write(Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]));
  process.nextTick(() => socket.uncork());
}
