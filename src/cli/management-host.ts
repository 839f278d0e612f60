import { socketTarget } from '../runtime/socket-uri.js';
import { CliError } from './cli-error.js';

export const DEFAULT_MANAGEMENT_HOST = 'unix:///var/run/iotedge/mgmt.sock';

/** Where to reach the management API: a unix socket, or (as edgelet's UrlConnector allows) TCP. */
export type ManagementEndpoint = { socketPath: string } | { hostname: string; port: number };

/** Parses `-H/--host` (or IOTEDGE_HOST): `unix:///path/to/mgmt.sock` or `http://host:port`. */
export function parseManagementHost(uri: string): ManagementEndpoint {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new CliError('Invalid value for --host parameter');
  }
  const local = url.protocol === 'unix:' && url.hostname === '' && url.pathname.length > 1;
  const tcp = url.protocol === 'http:' && url.hostname !== '' && url.pathname === '/';
  const target = local || tcp ? socketTarget(url) : undefined;
  if (target === undefined) throw new CliError('Invalid value for --host parameter');
  return 'socketPath' in target ? target : { hostname: target.host, port: target.port };
}
