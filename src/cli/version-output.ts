import { versionLine } from '../version.js';
import { DEFAULT_MANAGEMENT_HOST } from './management-host.js';

/**
 * `iotedge version`: this CLI's line, then the daemon's when one answers on `host` (briefly:
 * a missing daemon costs a failed connect, not a wait). `--version` prints the first line only.
 */
export async function versionOutput(
  host: string = process.env.IOTEDGE_HOST || DEFAULT_MANAGEMENT_HOST,
): Promise<string> {
  const { daemonVersion } = await import('./management-client.js');
  const daemon = await daemonVersion(host, 1000);
  return `${versionLine()}\n${daemon ? `iotedged ${daemon}\n` : ''}`;
}
