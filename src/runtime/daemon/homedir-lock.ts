import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

async function isLiveDaemon(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('iotedged');
}

/**
 * One daemon per homedir: two would both supervise (and restart) the same modules. A pid file
 * left by a daemon that was killed is taken over; one held by a live iotedged is refused.
 */
export async function lockHomedir(homedir: string): Promise<() => Promise<void>> {
  const file = path.join(homedir, 'iotedged.pid');
  const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && (await isLiveDaemon(holder))) {
    throw new Error(`another iotedged (pid ${holder}) is using ${homedir}`);
  }
  await writeFile(file, `${process.pid}\n`, { mode: 0o644 });
  return () => rm(file, { force: true });
}
