import type { Duplex } from 'node:stream';

/** A proxy refused or botched the CONNECT request; the message never contains the proxy's credentials. */
export class ProxyTunnelError extends Error {
  override readonly name = 'ProxyTunnelError';
}

export interface ProxyEndpoint {
  host: string;
  port: number;
  /** `Proxy-Authorization` header value built from the URL's userinfo, when it has one. */
  authorization?: string;
  /** The proxy URL without userinfo: safe to print and to put in JSON output. */
  display: string;
}

const MAX_RESPONSE_HEAD = 16 * 1024;

/**
 * The proxy URL with any `user:password@` removed, also for strings that do not parse as URLs.
 * Everything up to the last `@` goes, so a password holding an unescaped `/` or `@` cannot leak.
 */
export function redactProxyUrl(proxy: string): string {
  return proxy.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, '$1');
}

/**
 * Reads an `http://[user[:password]@]host[:port]` proxy setting (a bare `host:port` is taken as http).
 * The port defaults to 80 as in hyper-proxy, which the real tool uses.
 */
export function parseProxyUrl(proxy: string): ProxyEndpoint {
  const display = redactProxyUrl(proxy);
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ProxyTunnelError(`invalid proxy URL ${display}`);
  }
  if (url.protocol !== 'http:') {
    throw new ProxyTunnelError(`unsupported proxy URL ${display}: only http:// proxies are supported`);
  }
  if (url.hostname === '') throw new ProxyTunnelError(`invalid proxy URL ${display}: no host`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port === '' ? 80 : Number(url.port);
  const endpoint: ProxyEndpoint = { host, port, display };
  if (url.username !== '' || url.password !== '') {
    let credentials: string;
    try {
      credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    } catch {
      throw new ProxyTunnelError(
        `invalid proxy URL ${display}: malformed percent-encoding in its credentials`,
      );
    }
    endpoint.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return endpoint;
}

/** `host:port` as the authority of a CONNECT request (IPv6 literals bracketed). */
export function connectAuthority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function connectRequest(host: string, port: number, authorization?: string): string {
  const authority = connectAuthority(host, port);
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (authorization !== undefined) lines.push(`Proxy-Authorization: ${authorization}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The status of a proxy's answer to CONNECT, from the response head (everything before the blank line). */
export function parseConnectResponse(head: string): { statusCode: number; statusLine: string } {
  const statusLine = head.split('\r\n', 1)[0] ?? '';
  const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
  if (!match)
    throw new ProxyTunnelError(`proxy sent a malformed answer to CONNECT: ${JSON.stringify(statusLine)}`);
  return { statusCode: Number(match[1]), statusLine };
}

/**
 * Asks the proxy at the other end of `socket` to open a tunnel to host:port. Resolves once the proxy
 * answered 2xx; the socket is then a raw byte stream to the target (any bytes the proxy sent past its
 * response head are pushed back). Rejects with ProxyTunnelError on a refusal, or with the socket's error.
 * The caller owns the socket and destroys it in every case.
 */
export function openTunnel(
  socket: Duplex,
  proxy: ProxyEndpoint,
  target: { host: string; port: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const fail = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onError = (error: Error): void => fail(error);
    const onClose = (): void =>
      fail(new ProxyTunnelError(`proxy ${proxy.display} closed the connection without answering CONNECT`));
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) {
        if (received.length > MAX_RESPONSE_HEAD) {
          fail(new ProxyTunnelError(`proxy ${proxy.display} sent an oversized answer to CONNECT`));
        }
        return;
      }
      let status: { statusCode: number; statusLine: string };
      try {
        status = parseConnectResponse(received.subarray(0, end).toString('latin1'));
      } catch (error) {
        fail(error as Error);
        return;
      }
      if (status.statusCode < 200 || status.statusCode > 299) {
        const authority = connectAuthority(target.host, target.port);
        fail(
          new ProxyTunnelError(
            `proxy ${proxy.display} refused CONNECT to ${authority}: ${status.statusLine}`,
          ),
        );
        return;
      }
      cleanup();
      socket.pause();
      const rest = received.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve();
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(connectRequest(target.host, target.port, proxy.authorization));
  });
}
