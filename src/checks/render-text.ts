import type { CheckInfo } from './catalog.js';
import { tally, verdictOf } from './tally.js';
import type { CheckResult } from './types.js';

export interface Paint {
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
}

export const NO_PAINT: Paint = { green: (t) => t, yellow: (t) => t, red: (t) => t };

export interface TextReportOptions {
  verbose: boolean;
  warningsAsErrors: boolean;
  paint: Paint;
  write(text: string): void;
}

const CAUSE_FIRST = '        caused by: ';
const CAUSE_NEXT = ' '.repeat(CAUSE_FIRST.length);

function indentLines(text: string, first: string, next: string): string {
  return text
    .split('\n')
    .map((line, index) => `${index === 0 ? first : next}${line}\n`)
    .join('');
}

/**
 * The text form of `iotedge check` (1.1 layout): a header per section, one line per check with
 * its detail lines indented four spaces, a blank line after each section, then the summary.
 */
export class TextReport {
  private section: string | undefined;
  private readonly results: CheckResult[] = [];

  constructor(private readonly options: TextReportOptions) {}

  add(info: CheckInfo, result: CheckResult): void {
    const { write, paint, verbose, warningsAsErrors } = this.options;
    if (info.category !== this.section) {
      if (this.section !== undefined) write('\n');
      this.section = info.category;
      write(`${info.category}\n${'-'.repeat(info.category.length)}\n`);
    }
    this.results.push(result);

    const verdict = verdictOf(result, warningsAsErrors);
    const details = (message: string, causes: string[] = []) =>
      indentLines(message, '    ', '    ') +
      (verbose ? causes.map((cause) => indentLines(cause, CAUSE_FIRST, CAUSE_NEXT)).join('') : '');

    if (verdict === 'ok') {
      write(paint.green(`\u221a ${info.description} - OK`) + '\n');
    } else if (verdict === 'skipped') {
      if (verbose) {
        write(
          paint.yellow(`\u203c ${info.description} - Warning\n    skipping because of previous failures`) +
            '\n',
        );
      }
    } else if (verdict !== 'ignored' && 'message' in result) {
      const colour = verdict === 'warning' ? paint.yellow : paint.red;
      const label =
        verdict === 'warning' ? `\u203c ${info.description} - Warning` : `\u00d7 ${info.description} - Error`;
      write(colour(`${label}\n${details(result.message, result.causes)}`.replace(/\n$/, '')) + '\n');
    }
  }

  finish(): void {
    const { write, paint, verbose, warningsAsErrors } = this.options;
    if (this.section !== undefined) write('\n');
    const counts = tally(this.results, warningsAsErrors);
    const suffix = verbose ? '' : ' Re-run with --verbose for more details.';
    write(paint.green(`${counts.succeeded} check(s) succeeded.`) + '\n');
    if (counts.warnings > 0)
      write(paint.yellow(`${counts.warnings} check(s) raised warnings.${suffix}`) + '\n');
    if (counts.errors > 0) write(paint.red(`${counts.errors} check(s) raised errors.${suffix}`) + '\n');
    if (counts.skipped > 0) {
      write(
        paint.yellow(`${counts.skipped} check(s) were skipped due to errors from other checks.${suffix}`) +
          '\n',
      );
    }
  }
}
