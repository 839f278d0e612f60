import { chmod, mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { guardedListener } from '../http-guard.js';
import { unixSocketPath } from '../socket-uri.js';
import { managementRequestListener } from './management-api.js';
import type { ManagementBackend } from './management-types.js';

/** The unix socket path of a `unix:///path` URI, or an error naming the setting. */
export function socketPathOf(uri: string, setting: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error(`${setting}: "${uri}" is not a valid URI`);
  }
  const socketPath = url.pathname.startsWith('/') ? unixSocketPath(url) : undefined;
  if (socketPath === undefined) {
    throw new Error(`${setting}: "${uri}" is not a unix:// socket URI with an absolute path`);
  }
  return socketPath;
}

/** True when something answers on the socket (a live daemon), false for a stale file. */
function socketInUse(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Serves the management API on a unix socket with mode 0660 (owner and group only, as the
 * real daemon's socket). A stale socket file left by a killed daemon is replaced; a live one is not.
 */
export async function startManagementServer(
  socketPath: string,
  backend: ManagementBackend,
  log: (line: string) => void,
): Promise<http.Server> {
  await mkdir(path.dirname(socketPath), { recursive: true });
  if (await socketInUse(socketPath)) {
    throw new Error(`another daemon is already serving ${socketPath}`);
  }
  await rm(socketPath, { force: true });
  const listener = managementRequestListener(backend, log);
  const server = http.createServer(guardedListener('management API', listener, log));
  const previousMask = process.umask(0o117);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
  } finally {
    process.umask(previousMask);
  }
  await chmod(socketPath, 0o660);
  return server;
}
