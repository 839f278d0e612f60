import type { LogLine } from '../types.js';

/**
 * One stored log line: `<time> <stream> <text>\n`, where time is RFC 3339 UTC with milliseconds
 * (Date.toISOString, the moment iotedged read the line from the module) and stream is `O` for
 * stdout or `E` for stderr. Text is the line as the module wrote it, without its newline (and
 * without a trailing carriage return). Lines longer than MAX_LINE characters are split.
 */
export function formatLogLine(line: LogLine): string {
  return `${line.time.toISOString()} ${line.stream === 'stderr' ? 'E' : 'O'} ${line.text}\n`;
}

const STORED = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ([OE]) /;

/** The inverse of formatLogLine (without the newline); undefined for anything else. */
export function parseLogLine(raw: string): LogLine | undefined {
  const match = STORED.exec(raw);
  if (!match) return undefined;
  const time = new Date(match[1]);
  if (Number.isNaN(time.getTime())) return undefined;
  return { time, stream: match[2] === 'E' ? 'stderr' : 'stdout', text: raw.slice(match[0].length) };
}

export const MAX_LINE = 16 * 1024;

/** Cuts a stream of text into lines, holding back an unfinished last line (at most maxLine long). */
export class LineSplitter {
  private pending = '';

  constructor(private readonly maxLine = MAX_LINE) {}

  push(text: string): string[] {
    const lines: string[] = [];
    const data = this.pending + text;
    let start = 0;
    for (let newline = data.indexOf('\n'); newline >= 0; newline = data.indexOf('\n', start)) {
      lines.push(...this.cut(data.slice(start, newline).replace(/\r$/, '')));
      start = newline + 1;
    }
    let rest = data.slice(start);
    while (rest.length >= this.maxLine) {
      lines.push(rest.slice(0, this.maxLine));
      rest = rest.slice(this.maxLine);
    }
    this.pending = rest;
    return lines;
  }

  /** The unfinished last line, if any (at end of stream). */
  flush(): string[] {
    const rest = this.pending.replace(/\r$/, '');
    this.pending = '';
    return rest ? [rest] : [];
  }

  private cut(line: string): string[] {
    if (line.length <= this.maxLine) return [line];
    const parts: string[] = [];
    for (let at = 0; at < line.length; at += this.maxLine) parts.push(line.slice(at, at + this.maxLine));
    return parts;
  }
}

/** Whether a line's time lies within since/until (unix seconds, both inclusive). */
export function withinWindow(time: Date, since?: number, until?: number): boolean {
  const ms = time.getTime();
  return (since === undefined || ms >= since * 1000) && (until === undefined || ms <= until * 1000);
}
