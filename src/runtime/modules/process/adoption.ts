import type { ExitRecord, RunRecord } from './module-store.js';

/** What iotedged finds of a run that was going on when the previous iotedged ended. */
export interface RunFacts {
  /** The boot id now. */
  boot: string;
  /** run/exit, if the wrapper wrote it. */
  exit?: { code: number; time: Date };
  /** The program's pid (run.json, else run/pid). */
  pid?: number;
  /** Whether that pid is still the program (same start time, not a zombie). */
  running: boolean;
  now: Date;
}

export type Verdict = { adopt: number } | { exit: ExitRecord };

/**
 * Adopt the run, or record how it ended. A pid is trusted only within the boot it was recorded
 * in, and only while it is still the same process: never adopt (or later signal) a stranger.
 */
export function judgeRun(run: RunRecord, facts: RunFacts): Verdict {
  if (facts.exit) return { exit: { code: facts.exit.code, time: facts.exit.time.toISOString() } };
  const sameBoot = run.bootId === facts.boot;
  if (sameBoot && facts.pid && facts.running) return { adopt: facts.pid };
  return {
    exit: {
      time: facts.now.toISOString(),
      description: !sameBoot
        ? 'the device restarted while the module was running'
        : facts.pid
          ? 'the module ended while iotedged was not running; its exit code is unknown'
          : 'iotedged ended while starting the module',
    },
  };
}
