import type { HubMessage } from '../../routing/message.js';
import { DeliveryLoop, type DeliveryTarget } from './delivery-loop.js';
import {
  figuresOf,
  IGNORE_ENDPOINTS,
  type Endpoint,
  type EndpointObserver,
  type EnqueueOptions,
  type QueueFigures,
} from './endpoint.js';
import type { MessageStore } from './message-store.js';

/** Messages in flight to the upstream at a time. */
const UPSTREAM_WINDOW = 64;

export const UPSTREAM_ENDPOINT_ID = '$upstream';

/**
 * `$upstream`: messages held in priority order, expiring by their TTL, sent through the upstream
 * link while one is attached (IoT Hub or a parent edge device). A message held here may stay for
 * its whole TTL, so its body is copied out of the chunk the protocol head parsed it from: a view
 * would keep that whole chunk, with the other messages read with it, alive (some 1.6 KB more per
 * held 256-byte message at 1,000 msg/s).
 */
export class UpstreamEndpoint implements Endpoint {
  readonly id = UPSTREAM_ENDPOINT_ID;
  private readonly loop: DeliveryLoop;
  private target: DeliveryTarget | undefined;

  constructor(
    private readonly store: MessageStore,
    observer: EndpointObserver = IGNORE_ENDPOINTS,
    now?: () => number,
    window = UPSTREAM_WINDOW,
  ) {
    this.loop = new DeliveryLoop(this.id, store, () => this.target, window, observer, now);
  }

  get pending(): number {
    return this.store.size;
  }

  get delivered(): number {
    return this.loop.delivered;
  }

  figures(): QueueFigures {
    return figuresOf(this.store);
  }

  async enqueue(message: HubMessage, options: EnqueueOptions): Promise<void> {
    await this.store.append(withOwnBody(message), options);
    this.loop.pump();
  }

  /** The upstream link is up: held messages start to flow to it. */
  attach(target: DeliveryTarget): void {
    this.target = target;
    this.loop.pump();
  }

  /** The upstream link is down: messages are held until the next attach. */
  detach(): void {
    this.target = undefined;
  }

  close(): void {
    this.loop.close();
    this.store.close();
  }
}

/** The message with a body in memory of its own (the same message if it already is). */
function withOwnBody(message: HubMessage): HubMessage {
  const { body } = message;
  if (body.byteLength === body.buffer.byteLength) return message;
  const own = Buffer.allocUnsafeSlow(body.length);
  body.copy(own);
  return { ...message, body: own };
}
