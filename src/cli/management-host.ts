import { socketTarget } from '../runtime/socket-uri.js';
import { CliError } from './cli-error.js';

export const DEFAULT_MANAGEMENT_HOST = 'unix:///var/run/iotedge/mgmt.sock';

/** Where to reach the management API: a unix socket, or (as edgelet's UrlConnector allows) TCP. */
export type ManagementEndpoint = { socketPath: string } | { hostname: string; port: number };

/** The forms `-H/--host` takes, named in every message about a wrong one. */
export const HOST_FORMS = 'unix:///path/to/mgmt.sock (a unix socket) or http://HOST:PORT';

/** Why `uri` is not a management host, in a few words (for the message that names the forms). */
export function hostProblem(given: string): string {
  if (given === '') return 'it is empty';
  // a password in a URL is not repeated back
  const uri = given.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, '$1***@');
  if (uri.startsWith('/')) return `'${uri}' is a path without the unix:// scheme (write unix://${uri})`;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1];
  if (scheme === undefined) return `'${uri}' has no scheme`;
  const lower = scheme.toLowerCase();
  if (lower === 'unix') return `'${uri}' names no socket path`;
  if (lower === 'http') return `'${uri}' is not http://HOST:PORT (no path, no credentials)`;
  return `'${uri}' has the scheme ${scheme}:, which the daemon does not serve`;
}

/** Parses `-H/--host` (or IOTEDGE_HOST): `unix:///path/to/mgmt.sock` or `http://host:port`. */
export function parseManagementHost(uri: string): ManagementEndpoint {
  const invalid = () =>
    new CliError(`Invalid value for --host parameter: ${hostProblem(uri)}. Use ${HOST_FORMS}.`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalid();
  }
  const local = url.protocol === 'unix:' && url.hostname === '' && url.pathname.length > 1;
  const tcp = url.protocol === 'http:' && url.hostname !== '' && url.pathname === '/' && url.username === '';
  const target = local || tcp ? socketTarget(url) : undefined;
  if (target === undefined) throw invalid();
  return 'socketPath' in target ? target : { hostname: target.host, port: target.port };
}
