import type { Endpoint, QueueFigures } from './endpoints/endpoint.js';
import type { DropReason } from './endpoints/message-store.js';
import type { HubMessage } from '../routing/message.js';

/** What the hub counts, with edgeHub's metric names (reference: IoT Edge built-in metrics). */
export interface HubMetrics {
  received(message: HubMessage): void;
  sent(message: HubMessage, endpointId: string, priority: number, seconds: number): void;
  dropped(message: HubMessage, reason: 'no_route' | DropReason): void;
  getTwin(id: string): void;
  reportedProperties(id: string): void;
}

export const NO_METRICS: HubMetrics = {
  received: () => undefined,
  sent: () => undefined,
  dropped: () => undefined,
  getTwin: () => undefined,
  reportedProperties: () => undefined,
};

/** The sender as edgeHub labels it: `device/module` or `device`. */
const senderOf = (message: HubMessage) => {
  const { connectionDeviceId = '', connectionModuleId } = message.systemProperties;
  return connectionModuleId ? `${connectionDeviceId}/${connectionModuleId}` : connectionDeviceId;
};

export interface MetricsSources {
  connectedClients(): number;
  endpoints(): readonly Endpoint[];
}

/**
 * The Prometheus metrics of the hub through prom-client, in a registry of its own. Loaded only
 * when a deployment asks for the metrics endpoint (prom-client costs some 12 MiB).
 */
export async function prometheusMetrics(
  labels: { iothub: string; edge_device: string; instance_number: string },
  sources: MetricsSources,
): Promise<{ metrics: HubMetrics; contentType: string; render(): Promise<string> }> {
  const client = await import('prom-client');
  const registry = new client.Registry();
  registry.setDefaultLabels(labels);
  const counter = (name: string, help: string, labelNames: string[]) =>
    new client.Counter({ name, help, labelNames, registers: [registry] });
  const received = counter('edgehub_messages_received_total', 'Messages received from clients', [
    'route_output',
    'id',
  ]);
  const sent = counter('edgehub_messages_sent_total', 'Messages sent to clients or upstream', [
    'from',
    'to',
    'from_route_output',
    'to_route_input',
    'priority',
  ]);
  const dropped = counter('edgehub_messages_dropped_total', 'Messages dropped', [
    'reason',
    'from',
    'from_route_output',
  ]);
  const getTwin = counter('edgehub_gettwin_total', 'GetTwin calls', ['source', 'id']);
  const reported = counter('edgehub_reported_properties_total', 'Reported property updates', [
    'target',
    'id',
  ]);
  const size = new client.Summary({
    name: 'edgehub_message_size_bytes',
    help: 'Size of messages from clients',
    labelNames: ['id'],
    percentiles: [0.1, 0.5, 0.9, 0.99],
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'edgehub_message_process_duration_seconds',
    help: 'Time from a message arriving to its delivery being acknowledged',
    labelNames: ['from', 'to', 'priority'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  new client.Gauge({
    name: 'edgehub_connected_clients',
    help: 'Clients connected now',
    registers: [registry],
    collect() {
      this.set(sources.connectedClients());
    },
  });
  new client.Gauge({
    name: 'edgehub_queue_length',
    help: 'Messages held by an endpoint and not yet acknowledged',
    labelNames: ['endpoint', 'priority'],
    registers: [registry],
    collect() {
      this.reset();
      for (const endpoint of sources.endpoints())
        this.set({ endpoint: endpoint.id, priority: 'all' }, endpoint.pending);
    },
  });
  /** One gauge per endpoint from what its store holds, read at each scrape. */
  const perEndpoint = (name: string, help: string, value: (figures: QueueFigures, now: number) => number) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['endpoint'],
      registers: [registry],
      collect() {
        this.reset();
        const now = Date.now();
        for (const endpoint of sources.endpoints())
          this.set({ endpoint: endpoint.id }, value(endpoint.figures(), now));
      },
    });
  perEndpoint(
    'edgehub_queue_size_bytes',
    'Bytes of the messages held by an endpoint (body and properties)',
    (figures) => figures.bytes,
  );
  perEndpoint(
    'edgehub_queue_oldest_message_age_seconds',
    'Age of the oldest message an endpoint holds (0 when it holds none)',
    (figures, now) =>
      figures.oldestEnqueuedAt === undefined ? 0 : Math.max(0, (now - figures.oldestEnqueuedAt) / 1000),
  );
  new client.Counter({
    name: 'edgehub_messages_duplicated_total',
    help: 'Messages sent again after a crash or restart because their acknowledgement was not saved',
    labelNames: ['endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const endpoint of sources.endpoints()) {
        const { duplicates } = endpoint.figures();
        if (duplicates > 0) this.inc({ endpoint: endpoint.id }, duplicates);
      }
    },
  });
  const target = (endpointId: string) => {
    const input = /^(.*)\/inputs\/([^/]+)$/.exec(endpointId);
    return input ? { to: input[1]!, to_route_input: input[2]! } : { to: '', to_route_input: endpointId };
  };
  const metrics: HubMetrics = {
    received(message) {
      const id = senderOf(message);
      received.inc({ route_output: message.systemProperties.outputName ?? '', id });
      size.observe({ id }, message.body.length);
    },
    sent(message, endpointId, priority, seconds) {
      const from = senderOf(message);
      const { to, to_route_input } = target(endpointId);
      sent.inc({
        from,
        to,
        from_route_output: message.systemProperties.outputName ?? '',
        to_route_input,
        priority: String(priority),
      });
      latency.observe({ from, to: to || to_route_input, priority: String(priority) }, seconds);
    },
    dropped(message, reason) {
      dropped.inc({
        reason,
        from: senderOf(message),
        from_route_output: message.systemProperties.outputName ?? '',
      });
    },
    getTwin: (id) => getTwin.inc({ source: 'client', id }),
    reportedProperties: (id) => reported.inc({ target: 'edge', id }),
  };
  return { metrics, contentType: registry.contentType, render: () => registry.metrics() };
}
