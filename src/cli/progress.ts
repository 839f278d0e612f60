import { progressMode } from './progress-mode.js';
import type { LinesAboveSpinner } from './spinner-lines.js';

/** What a command tells the user while it waits. */
export interface Progress {
  /** The current step (a spinner's text; a new line in `lines` mode when it changed). */
  update(text: string): void;
  /** Ends the wait: the spinner is cleared (or replaced by `text`, a plain line otherwise). */
  stop(text?: string): void;
}

const silent: Progress = { update() {}, stop() {} };

function lines(): Progress {
  let last = '';
  return {
    update(text) {
      if (text === last) return;
      last = text;
      process.stderr.write(`${text}\n`);
    },
    stop(text) {
      if (text !== undefined && text !== last) process.stderr.write(`${text}\n`);
    },
  };
}

export interface ProgressOptions {
  json: boolean;
  /** Whether plain progress lines are worth printing when there is no terminal. */
  lines?: boolean;
  /** Where the command writes its lines while the wait goes on: the spinner keeps below them. */
  writer?: LinesAboveSpinner;
}

/** Starts showing a wait that may last over a second (see progressMode for where a spinner shows). */
export async function startProgress(text: string, options: ProgressOptions): Promise<Progress> {
  const mode = progressMode({
    stdoutTty: process.stdout.isTTY === true,
    stderrTty: process.stderr.isTTY === true,
    columns: process.stderr.columns,
    json: options.json,
    lines: options.lines === true,
    env: process.env,
  });
  if (mode === 'silent') return silent;
  if (mode === 'lines') {
    const progress = lines();
    progress.update(text);
    return progress;
  }
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: process.stderr, discardStdin: false }).start();
  const release = options.writer?.hold(spinner);
  return {
    update(next) {
      spinner.text = next;
    },
    stop(final) {
      release?.();
      if (final === undefined) spinner.stop();
      else spinner.stopAndPersist({ text: final, symbol: '' });
    },
  };
}

/** How long a wait goes unremarked: a spinner for a quick answer would only flicker. */
export const SPINNER_DELAY_MS = 1000;

/**
 * Runs `work`; if it has not settled after `delayMs`, a spinner (on a terminal only) says `text`
 * until it does.
 */
export async function withSpinner<T>(
  text: string,
  options: Omit<ProgressOptions, 'lines'>,
  work: () => Promise<T>,
  delayMs = SPINNER_DELAY_MS,
): Promise<T> {
  let progress: Promise<Progress> | undefined;
  const timer = setTimeout(() => {
    progress = startProgress(text, options);
  }, delayMs);
  try {
    return await work();
  } finally {
    clearTimeout(timer);
    if (progress) (await progress).stop();
  }
}
