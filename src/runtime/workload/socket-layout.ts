import path from 'node:path';

/*
 * Where a module finds its workload API. Each module has a directory of its own,
 * `<homedir>/mnt/<module>/`, holding one socket, `workload.sock`: the socket a module reaches is how
 * the API knows who calls. A container gets the directory (not the socket file) bound at
 * /var/run/iotedge, so the socket a restarted daemon makes anew is the one the running container
 * sees; a process module is given the host path.
 */

export const WORKLOAD_SOCKET_FILE = 'workload.sock';
/** Where containers see their workload directory, as IoT Edge binds it. */
export const CONTAINER_WORKLOAD_DIR = '/var/run/iotedge';
export const CONTAINER_WORKLOAD_URI = `unix://${CONTAINER_WORKLOAD_DIR}/${WORKLOAD_SOCKET_FILE}`;

/** `<homedir>/mnt`: root's alone; each module's directory inside it. */
export function workloadRoot(homedir: string): string {
  return path.join(homedir, 'mnt');
}

export function workloadDirectory(homedir: string, module: string): string {
  return path.join(workloadRoot(homedir), module);
}

export function workloadSocket(homedir: string, module: string): string {
  return path.join(workloadDirectory(homedir, module), WORKLOAD_SOCKET_FILE);
}

/** IOTEDGE_WORKLOADURI for a module: the container path in a container, the host path for a process. */
export function workloadUri(homedir: string, module: string, type: 'process' | 'docker'): string {
  return type === 'docker' ? CONTAINER_WORKLOAD_URI : `unix://${workloadSocket(homedir, module)}`;
}

/** A unix socket path has at most 107 bytes (108 with its terminating NUL). */
const UNIX_SOCKET_PATH_BYTES = 107;

/** The longest module name (in bytes) whose workload socket path fits under this homedir. */
export function maxModuleNameBytes(homedir: string): number {
  const withoutName = Buffer.byteLength(workloadSocket(homedir, 'x')) - 1;
  return UNIX_SOCKET_PATH_BYTES - withoutName;
}
