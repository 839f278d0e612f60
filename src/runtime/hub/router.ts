import type { EdgeHubDesired } from '../deployment/edgehub-desired.js';
import { routeTableOf } from '../deployment/edgehub-desired.js';
import type { Endpoint, EndpointObserver } from './endpoints/endpoint.js';
import type { EndpointFactory } from './endpoints/endpoint-factory.js';
import { moduleInputEndpointId } from './endpoints/module-input.js';
import type { UpstreamEndpoint } from './endpoints/upstream.js';
import { NO_METRICS, type HubMetrics } from './metrics.js';
import type { HubMessage } from '../routing/message.js';
import type { Delivery, RouteTable } from '../routing/route-table.js';
import type { Sink } from '../routing/route.js';

export interface RouterCounters {
  /** Messages that matched at least one route. */
  routed: number;
  /** Messages that matched no route (acknowledged, then let go). */
  dropped: number;
  /** Deliveries an endpoint's receiver acknowledged (a message routed to two endpoints counts twice). */
  delivered: number;
  /** Messages an endpoint let go unsent: past their time to live. */
  expired: number;
  /** Messages an endpoint let go unsent: the oldest held when its store was full. */
  evicted: number;
}

/**
 * Evaluates the deployment's routes for each message and hands it to every endpoint it goes to.
 * Endpoints live as long as the hub (messages held for a module survive a route change); those whose
 * durable store holds messages from before a restart exist from the start and deliver them.
 */
export class Router {
  private table: RouteTable | undefined;
  private readonly endpoints = new Map<string, Endpoint>();
  readonly upstream: UpstreamEndpoint;
  readonly counters: RouterCounters = { routed: 0, dropped: 0, delivered: 0, expired: 0, evicted: 0 };
  /** Replaced when the metrics endpoint is switched on. */
  metrics: HubMetrics = NO_METRICS;
  private readonly observer: EndpointObserver = {
    delivered: (message, endpointId, priority, seconds) => {
      this.counters.delivered++;
      this.metrics.sent(message, endpointId, priority, seconds);
    },
    dropped: (message, reason) => {
      if (reason === 'ttl_expiry') this.counters.expired++;
      else this.counters.evicted++;
      this.metrics.dropped(message, reason);
    },
  };

  constructor(
    private readonly deviceId: string,
    private readonly factory: EndpointFactory,
  ) {
    this.upstream = factory.upstream(this.observer);
    this.endpoints.set(this.upstream.id, this.upstream);
    for (const endpoint of factory.restored(this.observer)) this.endpoints.set(endpoint.id, endpoint);
  }

  /** Installs the routes of a validated `$edgeHub` desired document. */
  apply(desired: EdgeHubDesired): void {
    this.table = routeTableOf(desired);
  }

  get routes(): RouteTable | undefined {
    return this.table;
  }

  /**
   * Resolves once every endpoint the message goes to holds it (then the sender is acknowledged).
   * A message that no route matches is dropped, and still acknowledged (IoT Edge does the same).
   */
  route(message: HubMessage): Promise<number> {
    const deliveries = this.table?.evaluate(message) ?? [];
    this.metrics.received(message);
    if (deliveries.length === 0) {
      this.counters.dropped++;
      this.metrics.dropped(message, 'no_route');
      return Promise.resolve(0);
    }
    this.counters.routed++;
    const count = deliveries.length;
    // one delivery (the common case) waits on its endpoint alone: no array, no Promise.all
    if (count === 1) return this.enqueue(message, deliveries[0]!).then(() => count);
    return Promise.all(deliveries.map((delivery) => this.enqueue(message, delivery))).then(() => count);
  }

  private enqueue(message: HubMessage, delivery: Delivery): Promise<void> {
    return this.endpointFor(delivery.endpoint).enqueue(message, {
      priority: delivery.priority,
      timeToLiveSecs: delivery.timeToLiveSecs < 0 ? Number.MAX_SAFE_INTEGER / 1000 : delivery.timeToLiveSecs,
    });
  }

  /** Endpoints with their pending counts (for metrics). */
  all(): readonly Endpoint[] {
    return [...this.endpoints.values()];
  }

  close(): void {
    for (const endpoint of this.endpoints.values()) endpoint.close();
  }

  private endpointFor(sink: Sink): Endpoint {
    if (sink.kind === 'upstream') return this.upstream;
    const identity = `${this.deviceId}/${sink.moduleId}`;
    const id = moduleInputEndpointId(identity, sink.inputName);
    let endpoint = this.endpoints.get(id);
    if (!endpoint) {
      endpoint = this.factory.moduleInput(identity, sink.inputName, this.observer);
      this.endpoints.set(id, endpoint);
    }
    return endpoint;
  }
}
