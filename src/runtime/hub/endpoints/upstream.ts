import type { HubMessage } from '../../routing/message.js';
import type { DeliveryTarget } from './delivery-loop.js';
import { IGNORE_ENDPOINTS, type EndpointObserver } from './endpoint.js';
import type { MessageStore } from './message-store.js';
import { StoredEndpoint } from './stored-endpoint.js';

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
export class UpstreamEndpoint extends StoredEndpoint {
  private current: DeliveryTarget | undefined;

  constructor(
    store: MessageStore,
    observer: EndpointObserver = IGNORE_ENDPOINTS,
    now?: () => number,
    window = UPSTREAM_WINDOW,
  ) {
    super(UPSTREAM_ENDPOINT_ID, store, window, observer, now);
  }

  protected target(): DeliveryTarget | undefined {
    return this.current;
  }

  protected override held(message: HubMessage): HubMessage {
    return withOwnBody(message);
  }

  /** The upstream link is up: held messages start to flow to it. */
  attach(target: DeliveryTarget): void {
    this.current = target;
    this.loop.pump();
  }

  /** The upstream link is down: messages are held until the next attach. */
  detach(): void {
    this.current = undefined;
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
