import type { Connection, Receiver } from 'rhea';

/**
 * Calls `tooLarge` when a frame header announces more than `maxFrameBytes`: rhea would otherwise
 * buffer a frame of any announced size (up to 4 GiB) until it is complete.
 */
export function guardFrameSizes(
  connection: Connection,
  maxFrameBytes: number,
  tooLarge: (size: number) => void,
): void {
  const state = connection as unknown as { input(buffer: Buffer): void; frame_size?: number };
  const input = state.input;
  state.input = function (this: typeof state, buffer: Buffer) {
    input.call(this, buffer);
    if ((this.frame_size ?? 0) > maxFrameBytes) tooLarge(this.frame_size!);
  };
}

/**
 * rhea assembles a message of many transfer frames before anyone may judge it: `tooLarge` is called
 * as soon as one grows past `limit` (so that the caller ends the connection instead of holding its
 * bytes). The limit is also announced in the link's attach, as AMQP has receivers do. The guard is
 * set once per session (`guarded` remembers which).
 */
export function guardMessageSizes(
  receiver: Receiver,
  limit: number,
  guarded: WeakSet<object>,
  tooLarge: (size: number, limit: number) => void,
): void {
  (
    receiver as unknown as { local: { attach: { max_message_size?: number } } }
  ).local.attach.max_message_size = limit;
  const session = receiver.session as unknown as {
    incoming: { on_transfer(frame: unknown, link: unknown): void };
  };
  if (guarded.has(session)) return;
  guarded.add(session);
  const onTransfer = session.incoming.on_transfer;
  session.incoming.on_transfer = function (this: unknown, frame: unknown, link: unknown) {
    onTransfer.call(this, frame, link);
    const frames = (link as { _incomplete?: { frames?: Buffer[] } })._incomplete?.frames;
    if (!frames) return;
    let size = 0;
    for (const part of frames) size += part.length;
    if (size > limit) tooLarge(size, limit);
  };
}
