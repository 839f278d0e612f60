import v8 from 'node:v8';
import type { HeapMode } from './heap-mode.js';

/**
 * V8 flags iotedged sets for itself at start. The daemon is idle nearly all the time, so memory
 * matters more than peak speed: with --optimize-for-size V8 keeps the young generation small
 * instead of growing it after a burst of work (a deployment) and waiting many seconds of
 * idleness to shrink it again; measured, the idle RSS with 20 process modules drops by ~5 MiB.
 * Flags that size the heap at isolate creation (--max-semi-space-size) cannot be set from here.
 */
export const DAEMON_V8_FLAGS = ['--optimize-for-size'] as const;

/** Call first thing in the daemon, before the bulk of its code is loaded and compiled. */
export function tuneHeapForIdleDaemon(): void {
  for (const flag of DAEMON_V8_FLAGS) v8.setFlagsFromString(flag);
}

/** V8 reads this flag as it sizes the young generation, so switching it at run time takes effect. */
export function setHeapMode(mode: HeapMode): void {
  v8.setFlagsFromString(mode === 'speed' ? '--no-optimize-for-size' : '--optimize-for-size');
}
