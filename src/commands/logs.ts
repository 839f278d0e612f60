import { Args, Flags } from '@oclif/core';
import { once } from 'node:events';
import { CliError } from '../cli/cli-error.js';
import { DaemonCommand } from '../cli/daemon-command.js';

export default class Logs extends DaemonCommand {
  static override description = 'Fetch the logs of a module';

  static override examples = [
    '<%= config.bin %> logs tempSensor',
    '<%= config.bin %> logs tempSensor --tail 100 --since "2 hours" -t',
    '<%= config.bin %> logs tempSensor --since 2024-05-01T10:00:00Z --until 2024-05-01T11:00:00Z',
    '<%= config.bin %> logs -f tempSensor',
  ];

  static override args = {
    module: Args.string({ required: true, description: 'Sets the module identity to get logs' }),
  };

  static override flags = {
    tail: Flags.string({ description: 'Number of lines to show from the end of the log', default: 'all' }),
    since: Flags.string({
      description:
        'Only return logs since this time, as a duration (1 day, 90 minutes, 2 days 3 hours 2 minutes), RFC3339 timestamp, or UNIX timestamp',
      default: '1 day',
    }),
    until: Flags.string({
      description:
        'Only return logs up to this time, as a duration (1 day, 90 minutes, 2 days 3 hours 2 minutes), RFC3339 timestamp, or UNIX timestamp',
    }),
    follow: Flags.boolean({ char: 'f', description: 'Follow output' }),
    timestamps: Flags.boolean({ char: 't', description: 'Show a timestamp at the start of each line' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Logs);
    const [{ parseTail, parseTimeArg }, { decodeFrames, TruncatedLogStreamError }] = await Promise.all([
      import('../cli/time-args.js'),
      import('../runtime/daemon/log-frames.js'),
    ]);
    const now = new Date();
    const query = {
      follow: flags.follow === true,
      tail: parseTail(flags.tail),
      since: parseTimeArg(flags.since, 'since', now),
      until: flags.until === undefined ? undefined : parseTimeArg(flags.until, 'until', now),
      timestamps: flags.timestamps === true,
    };
    const client = await this.managementClient(flags.host);
    const abort = new AbortController();
    // A closed stdout (`iotedge logs m | head`) ends the command quietly.
    process.stdout.on('error', () => abort.abort());
    try {
      const body = await client.moduleLogs(args.module, query, abort.signal);
      for await (const frame of decodeFrames(body)) {
        if (abort.signal.aborted) break;
        if (!process.stdout.write(frame.payload))
          await once(process.stdout, 'drain', { signal: abort.signal });
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      throw error instanceof TruncatedLogStreamError ? new CliError(error.message) : error;
    }
  }
}
