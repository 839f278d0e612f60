import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';

import { ReasonedError } from '../../runtime/reasoned-error.js';
import { DNS_CODES, formatDuration } from './tls-probe.js';

/*
 * A minimal SNTP client (RFC 4330): one NTPv4 client packet over UDP, one reply, and the clock offset
 * computed from the four timestamps. Built on node: built-ins only.
 */

export type SntpFailureReason =
  /** The server name does not resolve. */
  | 'dns'
  /** No reply within the time budget. */
  | 'timeout'
  /** ICMP port unreachable: nothing listens on that port. */
  | 'refused'
  /** The reply is not a valid answer to our request. */
  | 'malformed'
  /** The server answered but refuses to serve time (kiss-o'-death, unsynchronized). */
  | 'server'
  /** `server` is not `host[:port]`. */
  | 'invalid-server'
  /** Another socket error. */
  | 'network'
  /** The caller's signal aborted the query for a reason other than a timeout. */
  | 'aborted';

export class SntpError extends ReasonedError<SntpFailureReason> {
  override readonly name = 'SntpError';
}

export interface SntpResult {
  /** How far the server's clock is ahead of ours (negative: ours is ahead). */
  offsetMs: number;
  /** Round-trip network delay. */
  delayMs: number;
}

export const NTP_PACKET_LENGTH = 48;
export const DEFAULT_NTP_PORT = 123;
/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
const TWO_POW_32 = 2 ** 32;

const MODE_CLIENT = 3;
const MODE_SERVER = 4;
const VERSION = 4;

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address. */
export function parseNtpServer(server: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  const plain = /^([^:]+)(?::(\d+))?$/.exec(server);
  let host: string;
  let port: string | undefined;
  if (bracketed) [, host, port] = bracketed;
  else if (plain) [, host, port] = plain;
  else if (/^[0-9a-f:]+$/i.test(server) && server.includes(':')) host = server;
  else
    throw new SntpError(
      'invalid-server',
      `NTP server ${JSON.stringify(server)} is not of the form host[:port]`,
    );
  const portNumber = port === undefined ? DEFAULT_NTP_PORT : Number(port);
  if (host === '' || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
    throw new SntpError(
      'invalid-server',
      `NTP server ${JSON.stringify(server)} is not of the form host[:port]`,
    );
  }
  return { host, port: portNumber };
}

/** Writes Unix milliseconds as a 64-bit NTP timestamp (seconds since 1900, 32-bit fraction). */
export function writeNtpTimestamp(buffer: Buffer, offset: number, unixMs: number): void {
  const totalSeconds = unixMs / 1000 + NTP_UNIX_OFFSET_S;
  const seconds = Math.floor(totalSeconds);
  const fraction = Math.min(Math.round((totalSeconds - seconds) * TWO_POW_32), TWO_POW_32 - 1);
  buffer.writeUInt32BE(seconds % TWO_POW_32, offset);
  buffer.writeUInt32BE(fraction, offset + 4);
}

/**
 * Reads a 64-bit NTP timestamp as Unix milliseconds. Seconds with the top bit clear belong to era 1
 * (from 2036-02-07), as RFC 4330 §3 prescribes, so the range is 1968–2104.
 */
export function readNtpTimestamp(buffer: Buffer, offset: number): number {
  let seconds = buffer.readUInt32BE(offset);
  const fraction = buffer.readUInt32BE(offset + 4);
  if ((seconds & 0x8000_0000) === 0) seconds += TWO_POW_32;
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / TWO_POW_32) * 1000;
}

/** An NTPv4 client request whose transmit timestamp the server echoes back as "originate". */
export function buildRequest(transmitUnixMs: number): Buffer {
  const packet = Buffer.alloc(NTP_PACKET_LENGTH);
  packet[0] = (VERSION << 3) | MODE_CLIENT;
  writeNtpTimestamp(packet, 40, transmitUnixMs);
  return packet;
}

/** Validates a server reply to `request` and returns its receive (t1) and transmit (t2) times. */
export function parseResponse(reply: Buffer, request: Buffer): { receiveMs: number; transmitMs: number } {
  if (reply.length < NTP_PACKET_LENGTH) {
    throw new SntpError(
      'malformed',
      `NTP reply is ${reply.length} bytes long, expected at least ${NTP_PACKET_LENGTH}`,
    );
  }
  const leap = reply[0] >> 6;
  const version = (reply[0] >> 3) & 0b111;
  const mode = reply[0] & 0b111;
  const stratum = reply[1];
  if (version < 1 || version > 4)
    throw new SntpError('malformed', `NTP reply has unsupported version ${version}`);
  if (mode !== MODE_SERVER)
    throw new SntpError('malformed', `NTP reply has mode ${mode}, expected ${MODE_SERVER}`);
  if (!reply.subarray(24, 32).equals(request.subarray(40, 48))) {
    throw new SntpError('malformed', 'NTP reply does not answer our request (originate timestamp mismatch)');
  }
  if (stratum === 0) {
    const code = reply
      .subarray(12, 16)
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, '');
    throw new SntpError('server', `NTP server refused to answer (kiss code ${JSON.stringify(code)})`);
  }
  if (leap === 3) throw new SntpError('server', 'NTP server clock is not synchronized');
  if (reply.readUInt32BE(40) === 0 && reply.readUInt32BE(44) === 0) {
    throw new SntpError('malformed', 'NTP reply has no transmit timestamp');
  }
  return { receiveMs: readNtpTimestamp(reply, 32), transmitMs: readNtpTimestamp(reply, 40) };
}

/** RFC 4330: offset = ((t1 - t0) + (t2 - t3)) / 2, delay = (t3 - t0) - (t2 - t1). */
export function clockOffset(t0: number, t1: number, t2: number, t3: number): SntpResult {
  return { offsetMs: (t1 - t0 + (t2 - t3)) / 2, delayMs: t3 - t0 - (t2 - t1) };
}

function abortError(signal: AbortSignal, server: string): SntpError {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new SntpError('timeout', `no answer from NTP server ${server} in the time allowed`, {
      cause: reason,
    });
  }
  return new SntpError('aborted', `query to NTP server ${server} was aborted`, { cause: reason });
}

function socketError(error: unknown, server: string): SntpError {
  if (error instanceof SntpError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') {
    return new SntpError('refused', `NTP server ${server} refused the request (port unreachable)`, {
      cause: error,
    });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new SntpError('network', `could not query NTP server ${server}: ${detail}`, { cause: error });
}

/** Asks `server` (`host[:port]`, port 123 by default) for the time; rejects with SntpError. */
export async function querySntp(
  server: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<SntpResult> {
  const { signal } = options;
  const { host, port } = parseNtpServer(server);
  if (signal?.aborted) throw abortError(signal, server);

  let socket: Socket | undefined;
  let rejectStop: (error: SntpError) => void = () => undefined;
  const stopped = new Promise<never>((_, reject) => (rejectStop = reject));
  stopped.catch(() => undefined);
  const timer = setTimeout(
    () =>
      rejectStop(
        new SntpError(
          'timeout',
          `no answer from NTP server ${server} within ${formatDuration(options.timeoutMs)}`,
        ),
      ),
    options.timeoutMs,
  );
  const onAbort = (): void => rejectStop(abortError(signal as AbortSignal, server));
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const address = await Promise.race([lookup(host), stopped]).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== undefined && DNS_CODES.has(code)) {
        throw new SntpError('dns', `could not resolve NTP server ${host} (${code})`, { cause: error });
      }
      throw socketError(error, server);
    });
    const udp = createSocket(address.family === 6 ? 'udp6' : 'udp4');
    socket = udp;
    const reply = new Promise<{ message: Buffer; t3: number }>((resolve, reject) => {
      udp.on('error', reject);
      udp.once('message', (message) => resolve({ message, t3: performance.now() }));
    });
    reply.catch(() => undefined);
    // A connected socket receives only the server's datagrams and learns of ICMP "port unreachable".
    const connected = new Promise<void>((resolve, reject) => {
      // Node passes a connect error to the callback, although its type declares no argument.
      const onConnect = ((error?: Error) => (error ? reject(error) : resolve())) as () => void;
      udp.connect(port, address.address, onConnect);
    });
    await Promise.race([connected, reply, stopped]);
    const t0 = Date.now();
    const sentAt = performance.now();
    const request = buildRequest(t0);
    udp.send(request);
    const { message, t3 } = await Promise.race([reply, stopped]).catch((error: unknown) => {
      throw socketError(error, server);
    });
    const { receiveMs, transmitMs } = parseResponse(message, request);
    // t3 from the monotonic clock, so that a wall-clock step during the query cannot skew the result.
    return clockOffset(t0, receiveMs, transmitMs, t0 + (t3 - sentAt));
  } catch (error) {
    throw socketError(error, server);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    closeQuietly(socket);
  }
}

function closeQuietly(socket: Socket | undefined): void {
  try {
    socket?.close();
  } catch {
    // already closed after an error
  }
}
