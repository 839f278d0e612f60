import type { HubMessage } from '../message.js';
import { IGNORE_ENDPOINTS, type Endpoint, type EndpointObserver, type EnqueueOptions } from './endpoint.js';
import { PriorityQueue } from './priority-queue.js';

/**
 * `$upstream` while no upstream connection exists (IoT Hub or a parent edge come later): messages
 * are held in priority order, expiring by their TTL, for the upstream to drain when it arrives.
 */
export class UpstreamEndpoint implements Endpoint {
  readonly id = '$upstream';
  private readonly queue: PriorityQueue;

  constructor(observer: EndpointObserver = IGNORE_ENDPOINTS, now?: () => number) {
    this.queue = new PriorityQueue(now, (message) => observer.expired(message));
  }

  get pending(): number {
    return this.queue.size;
  }

  enqueue(message: HubMessage, options: EnqueueOptions): Promise<void> {
    this.queue.push(message, options);
    return Promise.resolve();
  }

  /** The next message for the upstream, highest priority first, expired ones skipped. */
  take(): HubMessage | undefined {
    return this.queue.take()?.item.message;
  }

  close(): void {}
}
