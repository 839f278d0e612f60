import { posix } from 'node:path';

import type Dockerode from 'dockerode';

import { isNotFound } from '../../runtime/modules/docker/docker-engine.js';
import type { CheckContext, CheckDefinition, CheckResult } from '../types.js';
import { errorChain, failed, ok, warning } from '../types.js';
import { hostMountOf, isWithin, VOLATILE_FS_TYPES } from './host-mounts.js';

const STORAGE_FOLDER = /^storagefolder=(.*)$/i;

/** Where the module keeps its data: `<StorageFolder env, any case>/<name>`, by default `/tmp/<name>` (.NET's temp). */
export function storageDirectory(env: readonly string[] | null | undefined, name: string): string {
  const folder = (env ?? [])
    .map((entry) => STORAGE_FOLDER.exec(entry)?.[1])
    .find((value) => value !== undefined);
  return posix.join(folder ?? '/tmp', name);
}

/** Container paths that outlive the container: bind/volume mount destinations and declared volumes. */
export function persistedDirectories(
  inspect: Pick<Dockerode.ContainerInspectInfo, 'Mounts' | 'Config'>,
): string[] {
  const mounts = (inspect.Mounts ?? []).map((mount) => mount.Destination).filter(Boolean);
  const volumes = Object.keys(inspect.Config?.Volumes ?? {});
  return [...mounts, ...volumes];
}

const label = { edgeAgent: "Edge Agent's", edgeHub: "Edge Hub's" } as const;

function containerVerdict(
  name: 'edgeAgent' | 'edgeHub',
  inspect: Dockerode.ContainerInspectInfo,
): CheckResult {
  const storage = storageDirectory(inspect.Config?.Env, name);
  const persisted = persistedDirectories(inspect);
  const info = { case: 'container', storage_directory: storage, container_directories: persisted };
  if (persisted.some((directory) => isWithin(storage, directory))) return ok(info);
  return warning(
    `The ${name} module is not configured to persist its ${storage} directory on the host filesystem.\n` +
      'Data might be lost if the module is deleted or updated.\n' +
      'Please see https://aka.ms/iotedge-storage-host for best practices.',
    [],
    info,
  );
}

/**
 * No such container: this runtime embeds the agent and the hub in iotedged, which keeps their data under its
 * homedir. What can lose it then is a homedir on a filesystem that does not survive a reboot.
 */
async function embeddedVerdict(name: 'edgeAgent' | 'edgeHub', homedir: string): Promise<CheckResult> {
  const info: Record<string, unknown> = { case: 'embedded', storage_directory: homedir };
  let found: Awaited<ReturnType<typeof hostMountOf>>;
  try {
    found = await hostMountOf(homedir);
  } catch (error) {
    if (process.platform !== 'linux') return ok({ ...info, mount_point: null, file_system_type: null });
    return failed(`Could not find the filesystem holding ${homedir}`, errorChain(error), info);
  }
  info.mount_point = found.mount?.mountPoint ?? null;
  info.file_system_type = found.mount?.fsType ?? null;
  if (!found.mount || !VOLATILE_FS_TYPES.has(found.mount.fsType)) return ok(info);
  return warning(
    `The ${label[name]} storage directory ${homedir} (the homedir of iotedged, which runs the ${name} built in) ` +
      `is on a ${found.mount.fsType} filesystem mounted at ${found.mount.mountPoint}, which is not persisted on the host filesystem.\n` +
      'Data might be lost when the device restarts.\n' +
      'Please see https://aka.ms/iotedge-storage-host for best practices.',
    [],
    info,
  );
}

function makeStorageCheck(id: string, name: 'edgeAgent' | 'edgeHub'): CheckDefinition {
  return {
    id,
    needs: ['settings', 'docker'],
    run: async (ctx: CheckContext) => {
      let inspect: Dockerode.ContainerInspectInfo;
      try {
        inspect = await ctx.fact('docker').client.getContainer(name).inspect({ abortSignal: ctx.signal });
      } catch (error) {
        if (isNotFound(error)) return embeddedVerdict(name, ctx.fact('settings').homedir);
        return failed(`Could not check current state of ${name} container`, errorChain(error));
      }
      return containerVerdict(name, inspect);
    },
  };
}

export const edgeAgentStorageMountedCheck = makeStorageCheck(
  'edge-agent-storage-mounted-from-host',
  'edgeAgent',
);
export const edgeHubStorageMountedCheck = makeStorageCheck('edge-hub-storage-mounted-from-host', 'edgeHub');
