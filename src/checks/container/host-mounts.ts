import { readFile, realpath } from 'node:fs/promises';
import { posix } from 'node:path';

export interface MountEntry {
  device: string;
  mountPoint: string;
  fsType: string;
}

/** Filesystems whose contents do not survive a reboot. */
export const VOLATILE_FS_TYPES = new Set(['tmpfs', 'ramfs']);

/** /proc/mounts writes space, tab, newline and backslash in paths as octal escapes (\040...). */
const unescapeMountField = (field: string): string =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

export function parseProcMounts(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [device, mountPoint, fsType] = line.trim().split(/\s+/);
    if (!device || !mountPoint || !fsType) continue;
    entries.push({ device: unescapeMountField(device), mountPoint: unescapeMountField(mountPoint), fsType });
  }
  return entries;
}

/** Whether `path` is `base` or lies below it, compared by whole path components. */
export function isWithin(path: string, base: string): boolean {
  const p = posix.normalize(path);
  const b = posix.normalize(base).replace(/(.)\/$/, '$1');
  return b === '/' || p === b || p.startsWith(`${b}/`);
}

/** The mount that holds `path`: the longest mount point containing it; the later of stacked mounts wins. */
export function mountOf(path: string, entries: MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const entry of entries) {
    if (!isWithin(path, entry.mountPoint)) continue;
    if (!best || entry.mountPoint.length >= best.mountPoint.length) best = entry;
  }
  return best;
}

/** `path` with symlinks resolved, or its nearest existing ancestor's when it does not exist yet. */
export async function nearestExistingPath(path: string): Promise<string> {
  let current = posix.resolve(path);
  for (;;) {
    try {
      return await realpath(current);
    } catch {
      const parent = posix.dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

/** The mount holding `path` (or where it would be created), from /proc/mounts. */
export async function hostMountOf(
  path: string,
  procMounts = '/proc/mounts',
): Promise<{ path: string; mount?: MountEntry }> {
  const existing = await nearestExistingPath(path);
  const entries = parseProcMounts(await readFile(procMounts, 'utf8'));
  return { path: existing, mount: mountOf(existing, entries) };
}
