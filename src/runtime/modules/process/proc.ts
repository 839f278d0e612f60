import { close, open, read } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** The kernel's boot id, or '' where /proc does not offer one. */
export async function bootId(): Promise<string> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
}

export interface ProcInfo {
  /** Single-letter state from /proc/<pid>/stat: R, S, D, Z (zombie), ... */
  state: string;
  pgrp: number;
  /** Start time in clock ticks since boot: with the pid, identifies one process. */
  start: string;
}

/** Parses /proc/<pid>/stat; the command name in parentheses may itself contain spaces and ")". */
export function parseProcStat(text: string): ProcInfo | undefined {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 of proc(5): state; pgrp is field 5, starttime field 22
  if (fields.length < 20) return undefined;
  return { state: fields[0], pgrp: Number(fields[2]), start: fields[19] };
}

const STAT_CHUNK = 1024;

/**
 * The text of a small /proc file. /proc files report size 0, for which readFile reads in 64 KiB
 * buffers; supervision reads /proc/<pid>/stat of every module each second, and that garbage alone
 * kept the daemon's memory megabytes higher. Read in 1 KiB pieces (from Buffer's pool) instead.
 */
function readProcFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    open(file, 'r', (openError, fd) => {
      if (openError) return reject(openError);
      const chunks: Buffer[] = [];
      const finish = (error: Error | null) =>
        close(fd, () => (error ? reject(error) : resolve(Buffer.concat(chunks).toString('utf8'))));
      const next = () =>
        read(fd, Buffer.allocUnsafe(STAT_CHUNK), 0, STAT_CHUNK, null, (readError, bytes, buffer) => {
          if (readError || bytes === 0) return finish(readError);
          chunks.push(buffer.subarray(0, bytes));
          next();
        });
      next();
    });
  });
}

export async function procInfo(pid: number): Promise<ProcInfo | undefined> {
  const text = await readProcFile(`/proc/${pid}/stat`).catch(() => undefined);
  return text === undefined ? undefined : parseProcStat(text);
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` still runs (a zombie has ended) and, when `start` is known, is the same process
 * that was recorded rather than a newer one that got the same pid.
 */
export async function isRunning(pid: number, start?: string): Promise<boolean> {
  if (!(pid > 0) || !signalZero(pid)) return false;
  const info = await procInfo(pid);
  if (!info) return signalZero(pid);
  return info.state !== 'Z' && info.state !== 'X' && (start === undefined || info.start === start);
}

/** Sends a signal to a process or, with a negative id, a process group; false if none was there. */
export function sendSignal(id: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(id, signal);
    return true;
  } catch {
    return false;
  }
}
