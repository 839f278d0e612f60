import { Flags } from '@oclif/core';

const TIME_FORMS =
  'as a duration (1 day, 90 minutes, 2 days 3 hours 2 minutes), RFC3339 timestamp, or UNIX timestamp';

/** The flags of every command that prints a log (`logs`, `system logs`), as IoT Edge's `logs` has them. */
export const logFlags = {
  tail: Flags.string({ description: 'Number of lines to show from the end of the log', default: 'all' }),
  since: Flags.string({ description: `Only return logs since this time, ${TIME_FORMS}`, default: '1 day' }),
  until: Flags.string({ description: `Only return logs up to this time, ${TIME_FORMS}` }),
  follow: Flags.boolean({ char: 'f', description: 'Follow output' }),
  timestamps: Flags.boolean({ char: 't', description: 'Show a timestamp at the start of each line' }),
};

export interface LogFlagValues {
  tail: string;
  since: string;
  until?: string;
  follow?: boolean;
  timestamps?: boolean;
}
