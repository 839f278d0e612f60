import type { HubMessage } from '../../routing/message.js';
import { messageSize } from '../../routing/message.js';

/** Which routed messages a watcher sees: those to one endpoint, optionally from one device or module. */
export interface TapFilter {
  /** `$upstream`, or a module input's endpoint id (`device/module/inputs/input`). */
  endpoint: string;
  deviceId?: string;
  moduleId?: string;
}

/** What a watcher yields: a routed message, or how many it had to leave out since the last one. */
export type TapEvent =
  { kind: 'message'; endpoint: string; message: HubMessage } | { kind: 'dropped'; count: number };

/** How much a watcher holds for a slow reader before it drops the newest messages (and counts them). */
export interface TapLimits {
  messages: number;
  bytes: number;
}

export const DEFAULT_TAP_LIMITS: TapLimits = { messages: 1000, bytes: 8 * 1024 * 1024 };

/** Whether a message routed to `endpoint` is one the filter asks for. */
export function tapMatches(filter: TapFilter, endpoint: string, message: HubMessage): boolean {
  if (filter.endpoint !== endpoint) return false;
  const { connectionDeviceId, connectionModuleId } = message.systemProperties;
  if (filter.deviceId !== undefined && filter.deviceId !== connectionDeviceId) return false;
  if (filter.moduleId !== undefined && filter.moduleId !== (connectionModuleId ?? '')) return false;
  return true;
}

/**
 * One reader of routed messages: a bounded buffer between the router (which never waits for it)
 * and a reader that may be slow. A message that does not fit is dropped and counted; the reader
 * learns the count before the next message it gets.
 */
export class TapWatcher implements AsyncIterable<TapEvent> {
  private readonly held: { endpoint: string; message: HubMessage; bytes: number }[] = [];
  private heldBytes = 0;
  private droppedSinceRead = 0;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(
    readonly filter: TapFilter,
    private readonly limits: TapLimits,
    private readonly onClose: (watcher: TapWatcher) => void,
  ) {}

  /** Called by the tap for each routed message; never blocks. */
  offer(endpoint: string, message: HubMessage): void {
    if (this.closed || !tapMatches(this.filter, endpoint, message)) return;
    const bytes = messageSize(message);
    if (this.held.length >= this.limits.messages || this.heldBytes + bytes > this.limits.bytes) {
      this.droppedSinceRead++;
    } else {
      this.held.push({ endpoint, message, bytes });
      this.heldBytes += bytes;
    }
    this.wake?.();
  }

  /** Ends the stream (the reader went away); the tap forgets the watcher. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TapEvent> {
    try {
      while (!this.closed) {
        if (this.droppedSinceRead > 0) {
          const count = this.droppedSinceRead;
          this.droppedSinceRead = 0;
          yield { kind: 'dropped', count };
          continue;
        }
        const next = this.held.shift();
        if (next) {
          this.heldBytes -= next.bytes;
          yield { kind: 'message', endpoint: next.endpoint, message: next.message };
          continue;
        }
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.close();
    }
  }
}

/**
 * Where the router shows what it routes to whoever watches (`iotedge monitor`). With no watcher the
 * router only reads `watching`; a watcher never slows routing: it holds what it can and drops the rest.
 * It outlives restarts of the hub, so a watcher keeps watching across them.
 */
export class MessageTap {
  private readonly watchers = new Set<TapWatcher>();

  get watching(): boolean {
    return this.watchers.size > 0;
  }

  publish(endpoint: string, message: HubMessage): void {
    for (const watcher of this.watchers) watcher.offer(endpoint, message);
  }

  watch(filter: TapFilter, limits: TapLimits = DEFAULT_TAP_LIMITS): TapWatcher {
    const watcher = new TapWatcher(filter, limits, (closed) => this.watchers.delete(closed));
    this.watchers.add(watcher);
    return watcher;
  }
}
