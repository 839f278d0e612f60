import type { HubMessage } from '../../routing/message.js';
import type { DeliveryTarget } from './delivery-loop.js';
import { IGNORE_ENDPOINTS, type EndpointObserver } from './endpoint.js';
import type { MessageStore } from './message-store.js';
import { StoredEndpoint } from './stored-endpoint.js';

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
export class ModuleInputEndpoint extends StoredEndpoint {
  private readonly unwatch: () => void;

  constructor(
    private readonly identityId: string,
    private readonly inputName: string,
    private readonly directory: ReceiverDirectory,
    store: MessageStore,
    window = 64,
    observer: EndpointObserver = IGNORE_ENDPOINTS,
    now?: () => number,
  ) {
    super(moduleInputEndpointId(identityId, inputName), store, window, observer, now);
    this.unwatch = directory.watch(identityId, () => this.loop.pump());
  }

  protected target(): DeliveryTarget | undefined {
    const receiver = this.directory.receiver(this.identityId);
    return receiver && { deliver: (message: HubMessage) => receiver.deliverInput(this.inputName, message) };
  }

  override close(): void {
    super.close();
    this.unwatch();
  }
}
