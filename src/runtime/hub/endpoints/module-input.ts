import type { HubMessage } from '../message.js';
import { IGNORE_ENDPOINTS, type Endpoint, type EndpointObserver, type EnqueueOptions } from './endpoint.js';
import { PriorityQueue, type Queued } from './priority-queue.js';

/** A connected module that has subscribed to its inputs. */
export interface InputReceiver {
  /** Resolves when the module has acknowledged the message; rejects when the connection is gone. */
  deliverInput(inputName: string, message: HubMessage): Promise<void>;
}

export interface ReceiverDirectory {
  receiver(identityId: string): InputReceiver | undefined;
  /** Calls back whenever the identity connects, subscribes or goes; returns an unsubscribe function. */
  watch(identityId: string, listener: () => void): () => void;
}

/**
 * Delivers routed messages to one input of one module, with up to `window` messages in flight
 * (IoT Edge sends one at a time, which caps module-to-module traffic near 20 msg/s). Messages wait
 * here while the module is not connected; a message whose delivery failed goes back to the head.
 */
export class ModuleInputEndpoint implements Endpoint {
  readonly id: string;
  private readonly queue: PriorityQueue;
  private inFlight = 0;
  /** Deliveries that failed with their connection, sent again first and in their original order. */
  private returned: { item: Queued; priority: number; seq: number }[] = [];
  private sequence = 0;
  private closed = false;
  private readonly unwatch: () => void;
  delivered = 0;

  constructor(
    private readonly identityId: string,
    private readonly inputName: string,
    private readonly directory: ReceiverDirectory,
    private readonly window = 64,
    private readonly observer: EndpointObserver = IGNORE_ENDPOINTS,
    private readonly now: () => number = Date.now,
  ) {
    this.id = `${identityId}/inputs/${inputName}`;
    this.queue = new PriorityQueue(now, (message) => observer.expired(message));
    this.unwatch = directory.watch(identityId, () => this.pump());
  }

  get pending(): number {
    return this.queue.size + this.returned.length + this.inFlight;
  }

  get expired(): number {
    return this.queue.expired;
  }

  enqueue(message: HubMessage, options: EnqueueOptions): Promise<void> {
    this.queue.push(message, options);
    this.pump();
    return Promise.resolve();
  }

  close(): void {
    this.closed = true;
    this.unwatch();
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.window && this.pendingToSend() > 0) {
      const receiver = this.directory.receiver(this.identityId);
      if (!receiver) return;
      const next = this.returned.shift() ?? this.queue.take();
      if (!next) return;
      this.send(receiver, next.item, next.priority);
    }
  }

  private pendingToSend(): number {
    return this.returned.length + this.queue.size;
  }

  private send(receiver: InputReceiver, item: Queued, priority: number): void {
    const seq = this.sequence++;
    this.inFlight++;
    receiver.deliverInput(this.inputName, item.message).then(
      () => {
        this.inFlight--;
        this.delivered++;
        this.observer.delivered(item.message, this.id, priority, (this.now() - item.enqueuedAt) / 1000);
        this.pump();
      },
      () => {
        this.inFlight--;
        // the connection went away: keep the message for the next one (watch() pumps again)
        this.returned.push({ item, priority, seq });
        this.returned.sort((a, b) => a.seq - b.seq);
      },
    );
  }
}
