/** Raw MQTT bytes to a live hub over TLS, for packets no MQTT client would send. */
import tls from 'node:tls';

import { remainingLength, type HubEndpoint } from '../../helpers/mqtt-client.js';

/** What the hub sent back, and whether it closed the connection itself. */
export interface ProbeAnswer {
  bytes: Buffer;
  closedByHub: boolean;
}

/**
 * Opens a TLS connection, writes `packets` one after another (and `afterFirstAnswer` once the hub
 * has answered) and reads the answer until the hub closes the connection or stays quiet for
 * `quietMs` (then the probe closes it).
 */
export function probe(
  endpoint: HubEndpoint,
  packets: readonly Buffer[],
  quietMs = 150,
  afterFirstAnswer: readonly Buffer[] = [],
): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closedByHub = true;
    let timer: NodeJS.Timeout | undefined;
    const socket = tls.connect(
      { host: endpoint.host, port: endpoint.port, servername: endpoint.hostname, ca: endpoint.ca },
      () => {
        for (const packet of packets) socket.write(packet);
        quiet();
      },
    );
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        closedByHub = false;
        socket.destroy();
      }, quietMs);
    };
    socket.on('data', (chunk: Buffer) => {
      if (chunks.length === 0) for (const packet of afterFirstAnswer) socket.write(packet);
      chunks.push(chunk);
      quiet();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), closedByHub });
    });
  });
}

/** The CONNACK return code at the start of `bytes`, or undefined when they do not start with one. */
export function connackCode(bytes: Buffer): number | undefined {
  return bytes.length >= 4 && bytes[0] === 0x20 && bytes[1] === 2 ? bytes[3] : undefined;
}

/** An MQTT 3.1.1 PUBLISH at QoS 1 (packet id 1) of `payload` to `topic`. */
export function publishPacket(topic: string, payload: Buffer): Buffer {
  const topicBytes = Buffer.from(topic, 'utf8');
  const header = Buffer.alloc(2);
  header.writeUInt16BE(topicBytes.length);
  const body = Buffer.concat([header, topicBytes, Buffer.from([0, 1]), payload]);
  return Buffer.concat([Buffer.from([0x32]), remainingLength(body.length), body]);
}
