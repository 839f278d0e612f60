import { CountingLog, type LogLossEvent } from './log-losses.js';
import { LogPump } from './log-pump.js';
import { LogWriter } from './log-writer.js';
import type { ModulePaths } from './paths.js';

export interface RunLogsOptions {
  maxBytes: number;
  files: number;
  now: () => Date;
  onChange: () => void;
  /** Told when the disk starts refusing the module's output, and when it takes it again. */
  onLoss?: (event: LogLossEvent) => void;
}

const delay = (ms: number) =>
  new Promise<void>((done) => {
    setTimeout(done, ms).unref();
  });

/** The output plumbing of one module run: its log writer and a pump for each of its FIFOs. */
export class RunLogs {
  private constructor(
    private readonly writer: LogWriter,
    private readonly pumps: LogPump[],
  ) {}

  /**
   * Opens the FIFOs for reading. At launch, call it while the program's ends are open (see
   * openProgramEnds): a FIFO without writers would read as end of file at once.
   */
  static async open(paths: ModulePaths, options: RunLogsOptions): Promise<RunLogs> {
    const writer = await LogWriter.open({
      dir: paths.logs,
      maxBytes: options.maxBytes,
      files: options.files,
      onChange: options.onChange,
    });
    const log = new CountingLog(writer, options.onLoss);
    const pumps: LogPump[] = [];
    try {
      pumps.push(new LogPump(paths.stdoutFifo, 'stdout', log, options.now));
      pumps.push(new LogPump(paths.stderrFifo, 'stderr', log, options.now));
    } catch (error) {
      pumps.forEach((pump) => pump.destroy());
      await writer.close().catch(() => undefined);
      throw error;
    }
    return new RunLogs(writer, pumps);
  }

  /**
   * Lets the output still in the pipes reach the log (until every writer is gone, at most
   * drainMs: a leftover process may hold the pipe), then closes everything.
   */
  async finish(drainMs: number): Promise<void> {
    const drained = Promise.all(this.pumps.map((pump) => pump.done));
    if (drainMs > 0) await Promise.race([drained, delay(drainMs)]);
    this.pumps.forEach((pump) => pump.destroy());
    await drained;
    await this.writer.close().catch(() => undefined);
  }
}
