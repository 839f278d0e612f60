import type { Endpoint, EndpointObserver } from './endpoint.js';
import type { MessageStoreFactory } from './message-store.js';
import { ModuleInputEndpoint, moduleInputEndpointId, type ReceiverDirectory } from './module-input.js';
import { UPSTREAM_ENDPOINT_ID, UpstreamEndpoint } from './upstream.js';

/** Makes the endpoints the router sends to; the router asks once per endpoint and keeps it. */
export interface EndpointFactory {
  upstream(observer: EndpointObserver): UpstreamEndpoint;
  moduleInput(identityId: string, inputName: string, observer: EndpointObserver): Endpoint;
}

export interface StoredEndpointsOptions {
  /** Who is connected to receive module inputs. */
  receivers: ReceiverDirectory;
  /** Where each endpoint keeps its messages. */
  stores: MessageStoreFactory;
  /** Messages in flight to one module input at a time. */
  inputWindow?: number;
  now?: () => number;
}

/** Endpoints over message stores: every endpoint's messages held by the store the factory makes. */
export function storedEndpoints(options: StoredEndpointsOptions): EndpointFactory {
  const { receivers, stores, inputWindow, now } = options;
  return {
    upstream: (observer) => {
      const store = stores(UPSTREAM_ENDPOINT_ID, (message) => observer.expired(message));
      return new UpstreamEndpoint(store, observer, now);
    },
    moduleInput: (identityId, inputName, observer) => {
      const id = moduleInputEndpointId(identityId, inputName);
      const store = stores(id, (message) => observer.expired(message));
      return new ModuleInputEndpoint(identityId, inputName, receivers, store, inputWindow, observer, now);
    },
  };
}
