import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

import { openTunnel, parseProxyUrl, ProxyTunnelError, type ProxyEndpoint } from './proxy-connect.js';
import { ReasonedError } from '../../runtime/reasoned-error.js';
import { loadTrustStore } from './trust-store.js';

/*
 * A real "can this host reach X and trust it" probe: TCP connect (optionally through an HTTP CONNECT
 * proxy), then a TLS handshake verified against the OS trust store. Uses node: built-ins only, because
 * the diagnostics container runs this module too.
 */

export type TlsProbeReason =
  /** The host name (of the target or of the proxy) does not resolve. */
  | 'dns'
  | 'refused'
  /** No answer within the time budget, at whatever step it was. */
  | 'timeout'
  /** The peer's certificate is not trusted: unknown issuer, self-signed, expired, wrong host name… */
  | 'certificate'
  /** The proxy setting is unusable, or the proxy refused or botched the CONNECT request. */
  | 'proxy'
  /** The TLS handshake failed for another reason (peer hung up, protocol mismatch). */
  | 'tls'
  /** Another socket error: network unreachable, connection reset. */
  | 'network'
  /** The caller's signal aborted the probe for a reason other than a timeout. */
  | 'aborted';

export class TlsProbeError extends ReasonedError<TlsProbeReason> {
  override readonly name = 'TlsProbeError';
}

export interface TlsProbeOptions {
  host: string;
  port: number;
  /** Name sent as SNI and checked against the certificate; defaults to `host` (no SNI for IP literals). */
  servername?: string;
  /** PEM certificates trusted in addition to the OS trust store. */
  ca?: string[];
  /** `http://[user:password@]proxy[:port]`: tunnel through this proxy with HTTP CONNECT. */
  proxy?: string;
  /** Budget for the whole probe: name resolution, connect, proxy tunnel and handshake. */
  timeoutMs: number;
  signal?: AbortSignal;
}

type Phase = 'proxy-connect' | 'proxy-tunnel' | 'connect' | 'handshake';

/** errno codes of a host name that does not resolve. */
export const DNS_CODES: ReadonlySet<string> = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EAI_NODATA',
  'EAI_ADDRFAMILY',
]);
const CERTIFICATE_CODE = /CERT|SELF_SIGNED|ISSUER|LEAF_SIGNATURE|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH/;

/** Resolves when a TLS session with host:port was established and verified; rejects with TlsProbeError. */
export async function probeTls(options: TlsProbeOptions): Promise<void> {
  const { host, port, signal } = options;
  if (signal?.aborted) throw abortError(signal);
  const ca = [...(await loadTrustStore([])), ...(options.ca ?? [])];
  const proxy = options.proxy === undefined ? undefined : proxyEndpoint(options.proxy);
  const servername = options.servername ?? host;

  const sockets: Socket[] = [];
  let phase: Phase = proxy ? 'proxy-connect' : 'connect';
  let rejectStop: (error: TlsProbeError) => void = () => undefined;
  const stopped = new Promise<never>((_, reject) => (rejectStop = reject));
  stopped.catch(() => undefined);
  const stop = (error: TlsProbeError): void => {
    rejectStop(error);
    destroyAll(sockets);
  };
  const timer = setTimeout(
    () => stop(timeoutError(phase, options, proxy, formatDuration(options.timeoutMs))),
    options.timeoutMs,
  );
  const onAbort = (): void => stop(abortError(signal as AbortSignal));
  signal?.addEventListener('abort', onAbort, { once: true });

  const step = <T>(work: Promise<T>): Promise<T> => Promise.race([work, stopped]);
  try {
    let socket: Socket;
    if (proxy) {
      socket = await step(connectTcp(proxy.host, proxy.port, sockets)).catch((error: unknown) => {
        throw connectError(error, proxy.host, `proxy ${proxy.display}`);
      });
      phase = 'proxy-tunnel';
      await step(openTunnel(socket, proxy, { host, port })).catch((error: unknown) => {
        if (error instanceof TlsProbeError) throw error;
        if (error instanceof ProxyTunnelError) throw new TlsProbeError('proxy', error.message);
        throw connectError(error, proxy.host, `proxy ${proxy.display}`);
      });
    } else {
      socket = await step(connectTcp(host, port, sockets)).catch((error: unknown) => {
        throw connectError(error, host, `${host}:${port}`);
      });
    }
    phase = 'handshake';
    await step(handshake(socket, servername, ca, sockets)).catch((error: unknown) => {
      throw handshakeError(error);
    });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    destroyAll(sockets);
  }
}

/**
 * Destroys the TLS socket before the TCP socket it wraps: the other order crashes Node 20
 * (SIGSEGV at exit) when the TLS socket was built over an existing socket.
 */
function destroyAll(sockets: Socket[]): void {
  for (const socket of [...sockets].reverse()) socket.destroy();
}

function proxyEndpoint(proxy: string): ProxyEndpoint {
  try {
    return parseProxyUrl(proxy);
  } catch (error) {
    throw new TlsProbeError('proxy', (error as Error).message);
  }
}

/** Errors a socket reports after its phase ended must not crash the process: every tracked socket gets a sink. */
const ignoreError = (): void => undefined;

function connectTcp(host: string, port: number, sockets: Socket[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port });
    sockets.push(socket);
    socket.on('error', ignoreError);
    const onClose = (): void => reject(new Error('connection closed'));
    socket.once('error', reject);
    socket.once('close', onClose);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.off('close', onClose);
      resolve(socket);
    });
  });
}

function handshake(socket: Socket, servername: string, ca: string[], sockets: Socket[]): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // Node checks the certificate against `servername`, else `host`; IP literals are not valid SNI.
    const secure = tlsConnect({
      socket,
      host: servername,
      servername: isIP(servername) === 0 ? servername : undefined,
      ca,
      rejectUnauthorized: true,
    });
    sockets.push(secure);
    secure.on('error', ignoreError);
    secure.once('error', reject);
    secure.once('close', () => reject(new Error('connection closed during the TLS handshake')));
    secure.once('secureConnect', () => resolve(secure));
  });
}

function errorCodes(error: unknown): string[] {
  if (!(error instanceof Error)) return [];
  const codes: string[] = [];
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string') codes.push(code);
  if (error instanceof AggregateError) for (const inner of error.errors) codes.push(...errorCodes(inner));
  return codes;
}

/** Maps a failure to reach `host` (the target, or the proxy when `what` names it) to a probe error. */
export function connectError(error: unknown, host: string, what: string): TlsProbeError {
  if (error instanceof TlsProbeError) return error;
  const codes = errorCodes(error);
  const code = codes[0] ?? '';
  const isProxy = what.startsWith('proxy');
  if (codes.some((c) => DNS_CODES.has(c))) {
    const subject = isProxy ? `proxy host name ${host}` : `host name ${host}`;
    return new TlsProbeError('dns', `could not resolve ${subject} (${code})`, { cause: error });
  }
  if (codes.includes('ECONNREFUSED')) {
    return new TlsProbeError('refused', `connection refused by ${what}`, { cause: error });
  }
  if (codes.includes('ETIMEDOUT')) {
    return new TlsProbeError('timeout', `timed out connecting to ${what}`, { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new TlsProbeError('network', `could not connect to ${what}: ${detail}`, { cause: error });
}

/** Maps a TLS handshake failure to a probe error, keeping Node's own wording of certificate problems. */
export function handshakeError(error: unknown): TlsProbeError {
  if (error instanceof TlsProbeError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  const reason = errorCodes(error).some((code) => CERTIFICATE_CODE.test(code)) ? 'certificate' : 'tls';
  return new TlsProbeError(reason, `could not complete TLS handshake: ${detail}`, { cause: error });
}

function timeoutError(
  phase: Phase,
  options: TlsProbeOptions,
  proxy: ProxyEndpoint | undefined,
  budget: string,
): TlsProbeError {
  const target = `${options.host}:${options.port}`;
  const what = {
    'proxy-connect': `connecting to proxy ${proxy?.display}`,
    'proxy-tunnel': `waiting for proxy ${proxy?.display} to open a tunnel to ${target}`,
    connect: `connecting to ${target}`,
    handshake: `waiting for the TLS handshake with ${target}`,
  }[phase];
  return new TlsProbeError('timeout', `timed out after ${budget} ${what}`);
}

function abortError(signal: AbortSignal): TlsProbeError {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new TlsProbeError('timeout', 'timed out: the time allowed for this check ran out', {
      cause: reason,
    });
  }
  return new TlsProbeError('aborted', 'the connection attempt was aborted', { cause: reason });
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
