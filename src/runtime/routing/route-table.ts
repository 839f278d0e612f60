import type { HubMessage } from './message.js';
import { endpointId, type CompiledRoute, type Sink } from './route.js';
import { sourceKey } from './source.js';

/** Priority of a route that sets none: below every explicit priority 0..9 (IoT Edge's value). */
export const DEFAULT_PRIORITY = 2_000_000_000;

export interface NamedRoute {
  name: string;
  route: CompiledRoute;
  /** 0 (highest) .. 9, or DEFAULT_PRIORITY. */
  priority: number;
  /** 0 = the store's global time to live. */
  timeToLiveSecs: number;
}

/** Where a message goes: once per endpoint, with the priority and TTL of the winning route. */
export interface Delivery {
  endpoint: Sink;
  /** `$upstream` or `/modules/{m}/inputs/{i}`. */
  endpointId: string;
  priority: number;
  /** Seconds; negative means the message never expires. */
  timeToLiveSecs: number;
  /** Name of the route that won for this endpoint. */
  route: string;
}

/**
 * The routes of a deployment, evaluated together. A message goes to each endpoint at most once:
 * among the matching routes to one endpoint the highest priority (lowest number) wins, the first
 * declared on a tie.
 */
export class RouteTable {
  private readonly endpointIds: readonly string[];

  constructor(
    readonly routes: readonly NamedRoute[],
    /** The global `storeAndForwardConfiguration.timeToLiveSecs` (negative: never expires). */
    readonly defaultTimeToLiveSecs: number,
  ) {
    this.endpointIds = routes.map(({ route }) => endpointId(route.sink));
  }

  /** Deliveries in the order their endpoints are first routed to; empty means the message is dropped. */
  evaluate(message: HubMessage): Delivery[] {
    const key = sourceKey(message);
    // a deployment has few endpoints: a search of this short list costs less than a Map per message
    const deliveries: Delivery[] = [];
    for (let i = 0; i < this.routes.length; i++) {
      const { name, route, priority, timeToLiveSecs } = this.routes[i]!;
      if (!route.matchesKey(message, key)) continue;
      const id = this.endpointIds[i]!;
      const at = deliveries.findIndex((delivery) => delivery.endpointId === id);
      if (at >= 0 && deliveries[at]!.priority <= priority) continue;
      const delivery: Delivery = {
        endpoint: route.sink,
        endpointId: id,
        priority,
        timeToLiveSecs: timeToLiveSecs > 0 ? timeToLiveSecs : this.defaultTimeToLiveSecs,
        route: name,
      };
      if (at >= 0) deliveries[at] = delivery;
      else deliveries.push(delivery);
    }
    return deliveries;
  }
}
