import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';

/**
 * The MQTT 3.1.1 packets the head writes itself, past the broker: PUBACKs of the telemetry it
 * takes and the QoS 1 PUBLISHes of its deliveries. Each is one buffer, written to a socket that
 * stays corked until the current callbacks and promise reactions have run, so that the packets of
 * one turn leave in one write (one TLS record, one system call).
 */

/** Writes `packet` corked; false when the socket is gone (nothing written). */
export function writeCorked(socket: Duplex, packet: Buffer): boolean {
  if (socket.destroyed || !socket.writable) return false;
  socket.cork();
  socket.write(packet);
  process.nextTick(uncork, socket);
  return true;
}

function uncork(socket: Duplex): void {
  socket.uncork();
}

/** Writes an MQTT PUBACK (4 bytes) for `messageId`, corked. */
export function writePuback(socket: Duplex, messageId: number): void {
  writeCorked(socket, Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]));
}

/** A PUBLISH at QoS 1 (not retained, not a duplicate) as one buffer. */
export function publishQos1Packet(topic: string, payload: Buffer, messageId: number): Buffer {
  const topicBytes = Buffer.byteLength(topic);
  const remaining = 2 + topicBytes + 2 + payload.length;
  const header = 1 + lengthBytes(remaining);
  const packet = Buffer.allocUnsafe(header + remaining);
  packet[0] = 0x32;
  let at = 1;
  let length = remaining;
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    packet[at++] = byte;
  } while (length > 0);
  packet.writeUInt16BE(topicBytes, at);
  packet.write(topic, at + 2, 'utf8');
  at += 2 + topicBytes;
  packet.writeUInt16BE(messageId, at);
  payload.copy(packet, at + 2);
  return packet;
}

/** Bytes of MQTT's variable-length encoding of `length` (at most 4: up to 256 MiB). */
function lengthBytes(length: number): number {
  if (length < 128) return 1;
  if (length < 16_384) return 2;
  if (length < 2_097_152) return 3;
  if (length < 268_435_456) return 4;
  throw new Error(`an MQTT packet holds at most 256 MiB, not ${length} bytes`);
}

/** A PUBLISH as the head reads it past the broker (the fields aedes's parser gives it too). */
export interface ReadPublish {
  cmd: 'publish';
  qos: 0 | 1;
  dup: boolean;
  retain: boolean;
  topic: string;
  payload: Buffer;
  messageId?: number;
}

/**
 * A whole PUBLISH at QoS 0 or 1 read from its bytes (`bodyAt`: where its variable header starts);
 * undefined for any other packet, or one whose lengths do not add up (the broker's parser then
 * reads it and says what is wrong). The payload is a view of `packet`, not a copy.
 */
export function readPublish(packet: Buffer, bodyAt: number): ReadPublish | undefined {
  const first = packet[0]!;
  if (first >> 4 !== 3) return undefined;
  const qos = (first >> 1) & 3;
  if (qos > 1) return undefined;
  if (bodyAt + 2 > packet.length) return undefined;
  const topicLength = packet.readUInt16BE(bodyAt);
  const topicEnd = bodyAt + 2 + topicLength;
  const payloadAt = topicEnd + (qos === 1 ? 2 : 0);
  if (payloadAt > packet.length) return undefined;
  const read: ReadPublish = {
    cmd: 'publish',
    qos: qos as 0 | 1,
    dup: (first & 0x08) !== 0,
    retain: (first & 0x01) !== 0,
    topic: packet.toString('utf8', bodyAt + 2, topicEnd),
    payload: packet.subarray(payloadAt),
  };
  if (qos === 1) read.messageId = packet.readUInt16BE(topicEnd);
  return read;
}

/** The message id of a whole PUBACK; undefined for any other packet. */
export function readPuback(packet: Buffer, bodyAt: number): number | undefined {
  if (packet[0] !== 0x40 || packet.length !== bodyAt + 2) return undefined;
  return packet.readUInt16BE(bodyAt);
}
