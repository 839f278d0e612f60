import { createSocket } from 'node:dgram';

import { writeNtpTimestamp } from '../../src/checks/support/sntp.js';

export interface SntpServerOptions {
  /** How far this server's clock is ahead of the host's (negative: behind). */
  skewMs?: number;
  /** `answer` (default): a proper reply; `silent`: never replies; `malformed`: a short garbage datagram. */
  behaviour?: 'answer' | 'silent' | 'malformed';
}

export interface TestSntpServer {
  port: number;
  /** `127.0.0.1:<port>`, as --ntp-server takes it. */
  address: string;
  /** Requests received so far. */
  requests(): number;
  close(): Promise<void>;
}

/** A stratum-2 SNTP server on 127.0.0.1 (UDP, ephemeral port) serving the host clock plus `skewMs`. */
export async function startSntpServer(options: SntpServerOptions = {}): Promise<TestSntpServer> {
  const socket = createSocket('udp4');
  let requests = 0;
  socket.on('message', (request, peer) => {
    requests += 1;
    const now = Date.now() + (options.skewMs ?? 0);
    switch (options.behaviour ?? 'answer') {
      case 'silent':
        return;
      case 'malformed':
        socket.send(Buffer.from('not an NTP packet'), peer.port, peer.address);
        return;
      case 'answer': {
        const reply = Buffer.alloc(48);
        reply[0] = (0 << 6) | (4 << 3) | 4; // no leap warning, version 4, mode server
        reply[1] = 2; // stratum
        reply[3] = 0xec; // precision
        reply.write('TEST', 12, 'latin1'); // reference id
        writeNtpTimestamp(reply, 16, now - 60_000); // reference
        request.copy(reply, 24, 40, 48); // originate = the client's transmit
        writeNtpTimestamp(reply, 32, now); // receive
        writeNtpTimestamp(reply, 40, Date.now() + (options.skewMs ?? 0)); // transmit
        socket.send(reply, peer.port, peer.address);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
