import type { CheckResult } from './types.js';

/** How a result is shown and counted once --warnings-as-errors is applied. */
export type Verdict = 'ok' | 'warning' | 'error' | 'fatal' | 'skipped' | 'ignored';

export function verdictOf(result: CheckResult, warningsAsErrors: boolean): Verdict {
  switch (result.kind) {
    case 'ok':
      return 'ok';
    case 'warning':
      return warningsAsErrors ? 'error' : 'warning';
    case 'failed':
      return 'error';
    case 'fatal':
      return 'fatal';
    case 'skipped':
      return 'skipped';
    case 'ignored':
      return 'ignored';
  }
}

export interface Tally {
  succeeded: number;
  warnings: number;
  /** Failed, fatal, and warnings promoted by --warnings-as-errors. */
  errors: number;
  skipped: number;
}

export function tally(results: Iterable<CheckResult>, warningsAsErrors: boolean): Tally {
  const counts: Tally = { succeeded: 0, warnings: 0, errors: 0, skipped: 0 };
  for (const result of results) {
    const verdict = verdictOf(result, warningsAsErrors);
    if (verdict === 'ok') counts.succeeded += 1;
    else if (verdict === 'warning') counts.warnings += 1;
    else if (verdict === 'error' || verdict === 'fatal') counts.errors += 1;
    else if (verdict === 'skipped') counts.skipped += 1;
  }
  return counts;
}
