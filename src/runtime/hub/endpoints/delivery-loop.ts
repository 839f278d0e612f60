import type { EndpointObserver } from './endpoint.js';
import type { MessageStore, StoredMessage } from './message-store.js';
import type { HubMessage } from '../../routing/message.js';

/** Where an endpoint's messages go while it can take them (a module's connection, the upstream). */
export interface DeliveryTarget {
  /** Resolves when the receiver has acknowledged the message; rejects when it could not take it. */
  deliver(message: HubMessage): Promise<void>;
  /** Messages it takes in flight at once; the endpoint's own window when undefined. */
  readonly window?: number;
}

/**
 * Sends an endpoint's messages from its store to its target, with up to `window` in flight (or the
 * target's own window, when it has one), in
 * store order (highest priority first, FIFO within one). A delivery that fails gives its message
 * back to the store, which serves it again first; the loop then waits for `pump()` (the target is
 * back) instead of retrying at once. A message leaves the store only when its receiver acknowledged it.
 */
export class DeliveryLoop {
  private inFlight = 0;
  private closed = false;
  delivered = 0;

  constructor(
    private readonly endpointId: string,
    private readonly store: MessageStore,
    /** The target now, or undefined while there is none (nothing is read from the store then). */
    private readonly target: () => DeliveryTarget | undefined,
    private readonly window: number,
    private readonly observer: EndpointObserver,
    private readonly now: () => number = Date.now,
  ) {
    store.onReadable = () => this.pump();
  }

  /** Messages read and not yet acknowledged. */
  get sending(): number {
    return this.inFlight;
  }

  /** Sends what the window allows; call whenever a message arrives or the target may have changed. */
  pump(): void {
    while (!this.closed && this.store.waiting > 0) {
      const target = this.target();
      if (!target || this.inFlight >= (target.window ?? this.window)) return;
      const entry = this.store.read();
      if (!entry) return;
      this.send(target, entry);
    }
  }

  close(): void {
    this.closed = true;
  }

  private send(target: DeliveryTarget, entry: StoredMessage): void {
    this.inFlight++;
    target.deliver(entry.message).then(
      () => {
        this.inFlight--;
        this.delivered++;
        this.store.acknowledge(entry);
        this.observer.delivered(
          entry.message,
          this.endpointId,
          entry.priority,
          (this.now() - entry.enqueuedAt) / 1000,
        );
        this.pump();
      },
      () => {
        this.inFlight--;
        this.store.giveBack(entry);
      },
    );
  }
}
