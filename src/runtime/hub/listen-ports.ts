/** Where one hub listener binds. */
export interface Binding {
  host: string;
  port: number;
}

export interface HubBindings {
  mqtt: Binding;
  https: Binding;
  /** Prometheus metrics (plain HTTP): only when createOptions bind 9600/tcp, as edgeHub's. */
  metrics?: Binding;
}

const DEFAULTS = { mqtt: 8883, https: 443, metrics: 9600 } as const;
const CONTAINER_PORTS = { mqtt: '8883/tcp', https: '443/tcp', metrics: '9600/tcp' } as const;

/**
 * The host ports of the embedded hub, chosen as for the edgeHub container: the first binding of
 * `HostConfig.PortBindings["8883/tcp"]` and `["443/tcp"]` in its createOptions (`HostIp` is kept,
 * so tests bind 127.0.0.1; HostPort "0" picks a free port), else 8883 and 443 on every address.
 * Metrics are served only when `9600/tcp` is bound, as edgeHub's are only reachable when mapped.
 */
export function hubBindings(createOptions: Record<string, unknown> | undefined): HubBindings {
  const hostConfig = createOptions?.HostConfig as { PortBindings?: Record<string, unknown> } | undefined;
  const bindings = hostConfig?.PortBindings ?? {};
  const pick = (name: keyof typeof CONTAINER_PORTS): Binding => {
    const list = bindings[CONTAINER_PORTS[name]];
    const first = Array.isArray(list)
      ? (list[0] as { HostIp?: unknown; HostPort?: unknown } | undefined)
      : undefined;
    const port = Number(first?.HostPort);
    const host = typeof first?.HostIp === 'string' && first.HostIp !== '' ? first.HostIp : '0.0.0.0';
    return Number.isInteger(port) &&
      port >= 0 &&
      port <= 65535 &&
      first?.HostPort !== undefined &&
      first.HostPort !== ''
      ? { host, port }
      : { host, port: DEFAULTS[name] };
  };
  return {
    mqtt: pick('mqtt'),
    https: pick('https'),
    ...(bindings[CONTAINER_PORTS.metrics] ? { metrics: pick('metrics') } : {}),
  };
}

export const sameBinding = (a: Binding | undefined, b: Binding): boolean =>
  a !== undefined && a.host === b.host && a.port === b.port;
