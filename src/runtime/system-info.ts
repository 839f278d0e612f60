import { readFile, realpath, statfs } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';

const RUST_ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', arm: 'arm', ia32: 'x86' };

/** Binary-unit size as the real tool prints it, e.g. `1.95 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(2)} ${units[unit]}`;
}

/** Parses /etc/os-release text into its KEY=value pairs (quotes removed). */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) fields[match[1]] = match[2].replace(/^(["'])(.*)\1$/, '$2');
  }
  return fields;
}

/** Parses /proc/meminfo into byte counts. */
export function parseMeminfo(text: string): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (match) fields[match[1]] = Number(match[2]) * (line.includes('kB') ? 1024 : 1);
  }
  return fields;
}

async function readOr(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

/** `SSD`, `HDD` or `Unknown`, from the kernel's rotational flag of the device or its parent disk. */
async function diskType(device: string): Promise<string> {
  try {
    const sysPath = await realpath(`/sys/class/block/${path.basename(device)}`);
    for (const dir of [sysPath, path.dirname(sysPath)]) {
      const flag = (await readOr(`${dir}/queue/rotational`)).trim();
      if (flag === '0') return 'SSD';
      if (flag === '1') return 'HDD';
    }
  } catch {
    // Device mapper and loop devices may have no sysfs entry under this name.
  }
  return 'Unknown';
}

async function disks(): Promise<Record<string, string>[]> {
  const seen = new Set<string>();
  const result: Record<string, string>[] = [];
  for (const line of (await readOr('/proc/mounts')).split('\n')) {
    const [device, mountPoint, fsType] = line.split(' ');
    if (!device?.startsWith('/dev/') || seen.has(device)) continue;
    seen.add(device);
    try {
      const stats = await statfs(mountPoint.replace(/\\040/g, ' '));
      const total = stats.blocks * stats.bsize;
      const available = stats.bavail * stats.bsize;
      result.push({
        name: device,
        percent_free: total > 0 ? `${((available / total) * 100).toFixed(1)}%` : '0.0%',
        available_space: formatBytes(available),
        total_space: formatBytes(total),
        file_system: fsType,
        file_type: await diskType(device),
      });
    } catch {
      // A mount we cannot stat (permissions, stale) is left out rather than failing the report.
    }
  }
  return result;
}

/** The top-level `additional_info` of the JSON report: what a support engineer wants to know. */
export async function collectAdditionalInfo(versions: {
  docker_version?: string;
  iotedged_version?: string;
}): Promise<Record<string, unknown>> {
  const osRelease = parseOsRelease(await readOr('/etc/os-release'));
  const meminfo = parseMeminfo(await readOr('/proc/meminfo'));
  const totalRam = meminfo.MemTotal ?? os.totalmem();
  const availableRam = meminfo.MemAvailable ?? os.freemem();
  const totalSwap = meminfo.SwapTotal ?? 0;
  return {
    docker_version: versions.docker_version ?? null,
    iotedged_version: versions.iotedged_version ?? null,
    now: new Date().toISOString(),
    os: {
      id: osRelease.ID ?? process.platform,
      version_id: osRelease.VERSION_ID ?? null,
      arch: RUST_ARCH[process.arch] ?? process.arch,
      bitness: ['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64'].includes(process.arch) ? 64 : 32,
    },
    system_info: {
      used_ram: formatBytes(totalRam - availableRam),
      total_ram: formatBytes(totalRam),
      used_swap: formatBytes(totalSwap - (meminfo.SwapFree ?? 0)),
      total_swap: formatBytes(totalSwap),
      disks: await disks(),
    },
  };
}
