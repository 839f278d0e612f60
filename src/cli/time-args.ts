import { parseTimeValue } from '../runtime/time-args.js';
import { CliError } from './cli-error.js';

/** A `--since` / `--until` value as unix seconds (forms: see runtime/time-args.ts); `now` anchors durations. */
export function parseTimeArg(value: string, flag: 'since' | 'until', now: Date): number {
  const seconds = parseTimeValue(value, now);
  if (seconds === undefined) throw new CliError(`Invalid value for --${flag} parameter`);
  return seconds;
}

/** `--tail`: `all` or a non-negative integer. */
export function parseTail(value: string): 'all' | number {
  if (value === 'all') return 'all';
  if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  throw new CliError('Invalid value for --tail parameter');
}
