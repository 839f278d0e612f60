/** How a command shows that it waits: a spinner, plain lines on stderr, or nothing. */
export type ProgressMode = 'spinner' | 'lines' | 'silent';

/**
 * A spinner only where a person watches a terminal: stdout and stderr both TTYs, no `--json`, a
 * terminal that can redraw (TERM is not `dumb`, a known width: a spinner redraws by columns) and
 * not CI. Elsewhere, commands whose progress is
 * worth a log (`lines`) write plain lines on stderr, without `--json`; the rest stay silent.
 */
export function progressMode(facts: {
  stdoutTty: boolean;
  stderrTty: boolean;
  /** The width of the terminal stderr is (0 or undefined when unknown). */
  columns: number | undefined;
  json: boolean;
  lines: boolean;
  env: NodeJS.ProcessEnv;
}): ProgressMode {
  if (facts.json) return 'silent';
  const interactive =
    facts.stdoutTty &&
    facts.stderrTty &&
    (facts.columns ?? 0) > 0 &&
    facts.env.TERM !== 'dumb' &&
    !facts.env.CI;
  if (interactive) return 'spinner';
  return facts.lines ? 'lines' : 'silent';
}
