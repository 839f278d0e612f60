import path from 'node:path';

import type { Binding } from '../deployment/listen-ports.js';
import { readJsonFile, writeJsonAtomically } from '../json-file.js';

/** The hub's listeners whose bound port is remembered. */
export type PortName = 'mqtt' | 'https' | 'amqp' | 'metrics';
export type RememberedPorts = Partial<Record<PortName, number>>;

/** Where the daemon keeps the ports its hub listened on: `<homedir>/hub/ports.json`. */
export const rememberedPortsFile = (homedir: string): string => path.join(homedir, 'hub', 'ports.json');

const isPort = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 65535;

/** The remembered ports; a missing, unreadable or malformed file remembers nothing. */
export async function readRememberedPorts(file: string): Promise<RememberedPorts> {
  let parsed: unknown;
  try {
    parsed = await readJsonFile(file, 64 * 1024);
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== 'object') return {};
  const ports: RememberedPorts = {};
  for (const name of ['mqtt', 'https', 'amqp', 'metrics'] as const) {
    const value = (parsed as Record<string, unknown>)[name];
    if (isPort(value)) ports[name] = value;
  }
  return ports;
}

export async function writeRememberedPorts(file: string, ports: RememberedPorts): Promise<void> {
  await writeJsonAtomically(file, ports);
}

/**
 * Listens on `binding`, except that a binding to port 0 (any free port) first tries the port
 * remembered from the daemon's previous run: modules adopted across a restart keep the gateway
 * address (host:port) they were started with, so they can connect again. When that port is taken,
 * any free port it is. `attempt` must be callable again after it failed.
 */
export async function listenPreferringRemembered<T>(
  binding: Binding,
  remembered: number | undefined,
  attempt: (binding: Binding) => Promise<T>,
): Promise<T> {
  if (binding.port === 0 && isPort(remembered)) {
    try {
      return await attempt({ host: binding.host, port: remembered });
    } catch {
      // taken by someone else since: a free port, as the deployment asks
    }
  }
  return attempt(binding);
}
