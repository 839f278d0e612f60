/**
 * MQTT fixed headers (FrameGuard): the verdict on a byte stream does not depend on how the stream
 * is cut into chunks, and agrees with a plain reading of the packets one after another.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { FrameGuard } from '../../../src/runtime/hub/mqtt-head/frame-guard.js';
import { connectPacket, publishHeader } from '../../helpers/mqtt-client.js';
import { assertCleanMessage } from '../support/messages.js';
import { applyByteEdits, byteEdits } from '../support/mutations.js';
import { target } from '../support/target.js';

const LIMIT = 300;

/** The same rules read off the whole stream at once: whether some header breaks them. */
function refused(stream: Uint8Array): boolean {
  let at = 0;
  let first = true;
  while (at < stream.length) {
    if (first && stream[at]! >> 4 !== 1) return true;
    first = false;
    at++;
    let length = 0;
    for (let index = 0; ; index++) {
      if (at >= stream.length) return false;
      const byte = stream[at++]!;
      length += (byte & 0x7f) * 128 ** index;
      if (!(byte & 0x80)) break;
      if (index === 3) return true;
    }
    if (length > LIMIT) return true;
    at += length;
  }
  return false;
}

function chunks(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const end of [...points, stream.length]) {
    pieces.push(stream.subarray(start, end));
    start = end;
  }
  return pieces;
}

function checkStream([stream, cuts]: [Buffer, number[]]): void {
  const guard = new FrameGuard(LIMIT);
  let verdict: string | undefined;
  for (const piece of chunks(stream, cuts)) verdict = guard.feed(piece);
  const whole = new FrameGuard(LIMIT).feed(stream);
  assert.equal(verdict, whole, 'the verdict does not depend on the chunks');
  assert.equal(whole !== undefined, refused(stream), 'the verdict agrees with reading the whole stream');
  if (whole !== undefined) assertCleanMessage(whole);
}

/** A CONNECT, then packets of any type with bodies up to the limit (and a little over). */
const packetStream = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: LIMIT + 2 })), { maxLength: 6 })
  .map((packets) =>
    Buffer.concat([
      connectPacket({
        clientId: 'edge-1/m1',
        username: 'host/edge-1/m1/?api-version=2021-04-12',
        password: 'x',
      }),
      ...packets.map(([type, length]) =>
        Buffer.concat([Buffer.from([type]), publishHeader(length).subarray(1), Buffer.alloc(length)]),
      ),
    ]),
  );

export const targets = [
  target({
    name: 'FrameGuard: random bytes in random chunks',
    runs: 3000,
    arbitrary: () =>
      fc.tuple(
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
        fc.array(fc.nat(), { maxLength: 6 }),
      ),
    check: checkStream,
  }),
  target({
    name: 'FrameGuard: packet streams with bytes flipped, in random chunks',
    runs: 3000,
    arbitrary: () =>
      fc.tuple(
        fc
          .tuple(packetStream, fc.option(byteEdits, { nil: undefined }))
          .map(([stream, edits]) => (edits === undefined ? stream : applyByteEdits(stream, edits))),
        fc.array(fc.nat(), { maxLength: 6 }),
      ),
    check: checkStream,
  }),
];
