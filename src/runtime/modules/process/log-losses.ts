import { describeOsError } from '../../files/os-error.js';
import type { LogLine } from '../types.js';

/** What a module's log writes need: LogWriter's append, which rejects when the disk refuses. */
export interface LogAppender {
  append(lines: LogLine[]): Promise<void>;
}

export type LogLossEvent =
  { kind: 'failing'; reason: string } | { kind: 'recovered'; lost: number; reason: string };

/** The line that takes the place of output the disk refused, in the module's own log. */
export function lossNote(time: Date, lost: number, reason: string): LogLine {
  return {
    time,
    stream: 'stderr',
    text: `iotedged: ${lost} line(s) of this module's output were lost before this one (${reason})`,
  };
}

/**
 * A module's log as its output pumps see it. A write the disk refuses (a full disk) must not stop
 * the pumps, or the module would block on its full pipe: the lines are dropped and counted. The
 * next write that succeeds is preceded by a line saying how many were lost and why, and the owner
 * hears once when losses start and once when they end. append() never rejects.
 */
export class CountingLog {
  /** Lines lost since the log last took a write. */
  private unreported = 0;
  private reason = '';
  private total = 0;

  constructor(
    private readonly log: LogAppender,
    private readonly report: (event: LogLossEvent) => void = () => undefined,
  ) {}

  /** Every line lost since this log was opened. */
  get lost(): number {
    return this.total;
  }

  async append(lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const lost = this.unreported;
    const batch = lost > 0 ? [lossNote(lines[0]!.time, lost, this.reason), ...lines] : lines;
    try {
      await this.log.append(batch);
    } catch (error) {
      if (lost === 0) {
        this.reason = describeOsError(error);
        this.report({ kind: 'failing', reason: this.reason });
      }
      this.unreported += lines.length;
      this.total += lines.length;
      return;
    }
    if (lost > 0) {
      this.unreported = 0;
      this.report({ kind: 'recovered', lost, reason: this.reason });
    }
  }
}
