import type { HubMessage } from '../../routing/message.js';
import { DeliveryLoop, type DeliveryTarget } from './delivery-loop.js';
import {
  figuresOf,
  type Endpoint,
  type EndpointObserver,
  type EnqueueOptions,
  type QueueFigures,
} from './endpoint.js';
import type { MessageStore } from './message-store.js';

/**
 * An endpoint over a message store and a delivery loop: `enqueue` resolves once the store holds
 * the message, then the loop sends what the endpoint's current target can take.
 */
export abstract class StoredEndpoint implements Endpoint {
  protected readonly loop: DeliveryLoop;

  constructor(
    readonly id: string,
    protected readonly store: MessageStore,
    window: number,
    observer: EndpointObserver,
    now?: () => number,
  ) {
    this.loop = new DeliveryLoop(id, store, () => this.target(), window, observer, now);
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

  enqueue(message: HubMessage, options: EnqueueOptions): Promise<void> {
    return this.store.append(this.held(message), options).then(this.pump);
  }

  private readonly pump = (): void => this.loop.pump();

  close(): void {
    this.loop.close();
    this.store.close();
  }

  /** Where messages go now; undefined while nothing can take them. */
  protected abstract target(): DeliveryTarget | undefined;

  /** The message as the store should keep it (the same message unless an endpoint says otherwise). */
  protected held(message: HubMessage): HubMessage {
    return message;
  }
}
