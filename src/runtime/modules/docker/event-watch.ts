import type { ModuleEvent } from '../types.js';

/** The fields of an engine event the runtime reads. */
export interface EngineEvent {
  Type?: string;
  Action?: string;
  status?: string;
  time?: number;
  Actor?: { Attributes?: Record<string, string> };
}

/** Our module event for an engine container event, or undefined when it is not one we report. */
export function moduleEventOf(event: EngineEvent): ModuleEvent | undefined {
  if (event.Type !== undefined && event.Type !== 'container') return undefined;
  const name = event.Actor?.Attributes?.name;
  const action = (event.Action ?? event.status ?? '').split(':')[0];
  if (!name) return undefined;
  if (action === 'die') return { name, kind: 'exited' };
  if (action === 'start') return { name, kind: 'started' };
  if (action === 'health_status') return { name, kind: 'health' };
  return undefined;
}

/** Splits a stream of newline-delimited JSON into values, keeping an incomplete last line. */
export class JsonLines {
  private rest = '';
  push(chunk: string): unknown[] {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    const values: unknown[] = [];
    for (const part of parts) {
      if (part.trim() === '') continue;
      try {
        values.push(JSON.parse(part));
      } catch {
        // a garbled line is skipped: the agent re-lists on its own schedule anyway
      }
    }
    return values;
  }
}

export interface EventSource {
  /** Opens the engine's event stream; `since` is unix seconds. */
  open(since: number | undefined): Promise<NodeJS.ReadableStream & { destroy?: () => void }>;
}

export interface EventWatchOptions {
  emit: (event: ModuleEvent) => void;
  /** Whether an event's container (its attributes: name and labels) is the runtime's; all when absent. */
  accept?: (attributes: Record<string, string>) => boolean;
  /** Told once per break with why; the watch goes on. */
  warn?: (message: string) => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Follows the engine's event stream and reopens it with exponential backoff when it breaks (engine
 * restarted or stopped). On reopening it asks for the events since the last one seen, so a short
 * break loses nothing the engine still remembers.
 */
export class EventWatch {
  private stream?: NodeJS.ReadableStream & { destroy?: () => void };
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private lastTime?: number;
  private backoffMs: number;

  constructor(
    private readonly source: EventSource,
    private readonly options: EventWatchOptions,
  ) {
    this.backoffMs = options.minBackoffMs ?? 500;
  }

  start(): void {
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stream?.destroy?.();
    this.stream = undefined;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let stream: NodeJS.ReadableStream & { destroy?: () => void };
    try {
      stream = await this.source.open(this.lastTime);
    } catch (error) {
      this.retry(error);
      return;
    }
    if (this.stopped) {
      stream.destroy?.();
      return;
    }
    this.stream = stream;
    const lines = new JsonLines();
    let ended = false;
    const end = (error?: unknown) => {
      if (ended) return;
      ended = true;
      this.stream = undefined;
      this.retry(error ?? new Error('the event stream ended'));
    };
    stream.on('data', (chunk: Buffer | string) => {
      this.backoffMs = this.options.minBackoffMs ?? 500;
      for (const value of lines.push(chunk.toString())) {
        const event = value as EngineEvent;
        if (typeof event.time === 'number') this.lastTime = event.time;
        const moduleEvent = moduleEventOf(event);
        if (moduleEvent && (this.options.accept?.(event.Actor?.Attributes ?? {}) ?? true))
          this.options.emit(moduleEvent);
      }
    });
    stream.on('error', end);
    stream.on('end', () => end());
    stream.on('close', () => end());
  }

  private retry(error: unknown): void {
    if (this.stopped) return;
    this.options.warn?.(
      `container engine events: ${error instanceof Error ? error.message : String(error)}; retrying in ${this.backoffMs} ms`,
    );
    this.timer = setTimeout(() => void this.connect(), this.backoffMs);
    this.timer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 30_000);
  }
}
