/**
 * Where a local endpoint URI (management, workload, container engine) leads. Imports nothing: the
 * diagnostics image carries this module.
 */

/** A unix socket, or a TCP host and port. */
export type SocketTarget = { socketPath: string } | { host: string; port: number };

/** The socket path of a `unix://` URL, percent-decoded; undefined for any other scheme. */
export function unixSocketPath(url: URL): string | undefined {
  return url.protocol === 'unix:' ? decodeURIComponent(url.pathname) : undefined;
}

/**
 * Where a `unix://` or `http://` URL leads: the socket path, or the host (an IPv6 address without
 * its brackets) and port (80 when none is given); undefined for any other scheme.
 */
export function socketTarget(url: URL): SocketTarget | undefined {
  const socketPath = unixSocketPath(url);
  if (socketPath !== undefined) return { socketPath };
  if (url.protocol !== 'http:') return undefined;
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 80) };
}
