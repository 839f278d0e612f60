import type { Endpoint, EndpointObserver } from './endpoint.js';
import type { MessageStores } from './message-store.js';
import {
  ModuleInputEndpoint,
  moduleInputEndpointId,
  parseModuleInputEndpointId,
  type ReceiverDirectory,
} from './module-input.js';
import { UPSTREAM_ENDPOINT_ID, UpstreamEndpoint } from './upstream.js';

/** Makes the endpoints the router sends to; the router asks once per endpoint and keeps it. */
export interface EndpointFactory {
  upstream(observer: EndpointObserver): UpstreamEndpoint;
  moduleInput(identityId: string, inputName: string, observer: EndpointObserver): Endpoint;
  /** The module inputs whose stores hold messages from before a restart (they deliver them). */
  restored(observer: EndpointObserver): Endpoint[];
}

export interface StoredEndpointsOptions {
  /** Who is connected to receive module inputs. */
  receivers: ReceiverDirectory;
  /** Where each endpoint keeps its messages. */
  stores: MessageStores;
  /** Messages in flight to one module input at a time. */
  inputWindow?: number;
  now?: () => number;
}

/** Endpoints over message stores: every endpoint's messages held by the store the factory makes. */
export function storedEndpoints(options: StoredEndpointsOptions): EndpointFactory {
  const { receivers, stores, inputWindow, now } = options;
  const moduleInput = (identityId: string, inputName: string, observer: EndpointObserver) => {
    const id = moduleInputEndpointId(identityId, inputName);
    const store = stores.open(id, (message, reason) => observer.dropped(message, reason));
    return new ModuleInputEndpoint(identityId, inputName, receivers, store, inputWindow, observer, now);
  };
  return {
    upstream: (observer) => {
      const store = stores.open(UPSTREAM_ENDPOINT_ID, (message, reason) => observer.dropped(message, reason));
      return new UpstreamEndpoint(store, observer, now);
    },
    moduleInput,
    restored: (observer) =>
      stores.persistedEndpoints().flatMap((id) => {
        const input = parseModuleInputEndpointId(id);
        return input ? [moduleInput(input.identityId, input.inputName, observer)] : [];
      }),
  };
}
