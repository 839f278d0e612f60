import type { HubMessage } from '../message.js';
import { IGNORE_ENDPOINTS, type Endpoint, type EndpointObserver, type EnqueueOptions } from './endpoint.js';
import { PriorityQueue } from './priority-queue.js';

/**
 * `$upstream` while no upstream connection exists (IoT Hub or a parent edge come later): messages
 * are held in priority order, expiring by their TTL, for the upstream to drain when it arrives.
 * A message held here may stay for its whole TTL, so its body is copied out of the chunk the
 * protocol head parsed it from: a view would keep that whole chunk, with the other messages read
 * with it, alive (some 1.6 KB more per held 256-byte message at 1,000 msg/s).
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
    this.queue.push(withOwnBody(message), options);
    return Promise.resolve();
  }

  /** The next message for the upstream, highest priority first, expired ones skipped. */
  take(): HubMessage | undefined {
    return this.queue.take()?.item.message;
  }

  close(): void {}
}

/** The message with a body in memory of its own (the same message if it already is). */
function withOwnBody(message: HubMessage): HubMessage {
  const { body } = message;
  if (body.byteLength === body.buffer.byteLength) return message;
  const own = Buffer.allocUnsafeSlow(body.length);
  body.copy(own);
  return { ...message, body: own };
}
