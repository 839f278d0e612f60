import assert from 'node:assert/strict';
import { test } from 'node:test';
import ora from 'ora';
import { LinesAboveSpinner } from '../../src/cli/spinner-lines.js';

/**
 * A terminal screen two streams write to (as stdout and stderr share one terminal): text moves the
 * cursor, a line feed starts the next row, and the cursor calls ora uses move and erase.
 */
class FakeTerminal {
  rows: string[] = [''];
  row = 0;
  col = 0;
  readonly isTTY = true;
  readonly columns = 80;

  write(text: string): boolean {
    for (const char of text) {
      if (char === '\n') {
        this.row += 1;
        this.col = 0;
        if (this.rows.length <= this.row) this.rows.push('');
        continue;
      }
      const line = this.rows[this.row].padEnd(this.col);
      this.rows[this.row] = line.slice(0, this.col) + char + line.slice(this.col + 1);
      this.col += 1;
    }
    return true;
  }

  cursorTo(x: number): boolean {
    this.col = x;
    return true;
  }

  moveCursor(dx: number, dy: number): boolean {
    this.col = Math.max(0, this.col + dx);
    this.row = Math.max(0, this.row + dy);
    return true;
  }

  clearLine(): boolean {
    this.rows[this.row] = this.rows[this.row].slice(0, this.col);
    return true;
  }

  get screen(): string[] {
    return this.rows.map((row) => row.trimEnd());
  }
}

/** A spinner on the terminal, redrawn by hand (no timer) so that the test decides when frames come. */
function spinnerOn(terminal: FakeTerminal) {
  return ora({
    text: 'Preparing the diagnostics image',
    stream: terminal as unknown as NodeJS.WritableStream,
    isEnabled: true,
    hideCursor: false,
    discardStdin: false,
    interval: 60_000,
  });
}

test('lines written while a spinner shows land above it, never inside its frame', () => {
  const terminal = new FakeTerminal();
  const writer = new LinesAboveSpinner((text) => terminal.write(text));
  const spinner = spinnerOn(terminal).start();
  const release = writer.hold(spinner);
  try {
    writer.write('√ config.yaml is well-formed - OK\n');
    spinner.render(); // a tick of the spinner between two lines
    writer.write('√ container engine is installed and functional - OK\n');
    assert.equal(spinner.isSpinning, true, 'the spinner goes on after each line');
    const screen = terminal.screen;
    assert.deepEqual(screen.slice(0, 2), [
      '√ config.yaml is well-formed - OK',
      '√ container engine is installed and functional - OK',
    ]);
    assert.match(screen[2], /^\S Preparing the diagnostics image$/, 'the spinner is drawn again below');
    assert.equal(screen.length, 3);
  } finally {
    release();
    spinner.stop();
  }
  assert.deepEqual(terminal.screen.slice(0, 2), [
    '√ config.yaml is well-formed - OK',
    '√ container engine is installed and functional - OK',
  ]);
  assert.equal(terminal.screen[2], '', 'the stopped spinner leaves nothing');
});

test('without the writer the same lines run into the spinner frame (what the writer prevents)', () => {
  const terminal = new FakeTerminal();
  const spinner = spinnerOn(terminal).start();
  terminal.write('√ config.yaml is well-formed - OK\n');
  spinner.stop();
  assert.match(terminal.screen[0], /Preparing the diagnostics image√ config\.yaml/);
});

test('once released (or stopped) the spinner is left alone and the text is written as it is', () => {
  const calls: string[] = [];
  const spinner = {
    isSpinning: true,
    clear: () => calls.push('clear'),
    render: () => calls.push('render'),
  };
  const writer = new LinesAboveSpinner((text) => calls.push(`write ${text}`));
  const release = writer.hold(spinner);
  writer.write('a\n');
  assert.deepEqual(calls, ['clear', 'write a\n', 'render']);
  spinner.isSpinning = false;
  writer.write('b\n');
  release();
  spinner.isSpinning = true;
  writer.write('c\n');
  assert.deepEqual(calls, ['clear', 'write a\n', 'render', 'write b\n', 'write c\n']);
});
