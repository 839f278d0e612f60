import type { HubMessage } from '../../routing/message.js';
import { DeliveryLoop } from './delivery-loop.js';
import {
  figuresOf,
  IGNORE_ENDPOINTS,
  type Endpoint,
  type EndpointObserver,
  type EnqueueOptions,
  type QueueFigures,
} from './endpoint.js';
import type { MessageStore } from './message-store.js';

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

/** The id of a module input's endpoint (also its label in the hub's metrics). */
export const moduleInputEndpointId = (identityId: string, inputName: string) =>
  `${identityId}/inputs/${inputName}`;

/** The module and input of a module input's endpoint id; undefined for any other id. */
export function parseModuleInputEndpointId(
  id: string,
): { identityId: string; inputName: string } | undefined {
  const match = /^(.+)\/inputs\/([^/]+)$/.exec(id);
  return match ? { identityId: match[1]!, inputName: match[2]! } : undefined;
}

/**
 * Delivers routed messages to one input of one module, with up to `window` messages in flight
 * (IoT Edge sends one at a time, which caps module-to-module traffic near 20 msg/s). Messages wait
 * in the store while the module is not connected; a message whose delivery failed is sent again first.
 */
export class ModuleInputEndpoint implements Endpoint {
  readonly id: string;
  private readonly loop: DeliveryLoop;
  private readonly unwatch: () => void;

  constructor(
    identityId: string,
    inputName: string,
    directory: ReceiverDirectory,
    private readonly store: MessageStore,
    window = 64,
    observer: EndpointObserver = IGNORE_ENDPOINTS,
    now?: () => number,
  ) {
    this.id = moduleInputEndpointId(identityId, inputName);
    const target = () => {
      const receiver = directory.receiver(identityId);
      return receiver && { deliver: (message: HubMessage) => receiver.deliverInput(inputName, message) };
    };
    this.loop = new DeliveryLoop(this.id, store, target, window, observer, now);
    this.unwatch = directory.watch(identityId, () => this.loop.pump());
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
    await this.store.append(message, options);
    this.loop.pump();
  }

  close(): void {
    this.loop.close();
    this.unwatch();
    this.store.close();
  }
}
