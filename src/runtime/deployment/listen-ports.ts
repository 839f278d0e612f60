import { isIP } from 'node:net';

/** Where one hub listener binds. */
export interface Binding {
  host: string;
  port: number;
}

export interface HubBindings {
  mqtt: Binding;
  https: Binding;
  /**
   * AMQP over TLS: when createOptions bind 5671/tcp, or bind no port at all (then 5671, as the
   * other defaults); a deployment that binds other ports but not 5671 leaves it unreachable, as an
   * unmapped port of the edgeHub container is.
   */
  amqp?: Binding;
  /** Prometheus metrics (plain HTTP): only when createOptions bind 9600/tcp, as edgeHub's. */
  metrics?: Binding;
}

const DEFAULTS = { mqtt: 8883, https: 443, amqp: 5671, metrics: 9600 } as const;
const CONTAINER_PORTS = {
  mqtt: '8883/tcp',
  https: '443/tcp',
  amqp: '5671/tcp',
  metrics: '9600/tcp',
} as const;

/**
 * The host ports of the embedded hub, chosen as for the edgeHub container: the first binding of
 * `HostConfig.PortBindings["8883/tcp"]` and `["443/tcp"]` in its createOptions (`HostIp` is kept,
 * so tests bind 127.0.0.1; HostPort "0" picks a free port), else 8883 and 443 on every address.
 * Metrics are served only when `9600/tcp` is bound, as edgeHub's are only reachable when mapped;
 * AMQP when `5671/tcp` is bound or nothing is.
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
  const bindsNothing = Object.keys(bindings).length === 0;
  return {
    mqtt: pick('mqtt'),
    https: pick('https'),
    ...(bindings[CONTAINER_PORTS.amqp] || bindsNothing ? { amqp: pick('amqp') } : {}),
    ...(bindings[CONTAINER_PORTS.metrics] ? { metrics: pick('metrics') } : {}),
  };
}

/**
 * What is wrong with the hub's port bindings, if anything: each binding of a port the hub serves
 * must name a host port 0..65535 (or none, for the default) and a host address that is an IP (or
 * none, for every address). Checked when a deployment arrives, so that a typo is refused instead of
 * silently serving the default port. `path` is relative to createOptions.
 */
export function hubBindingProblem(
  createOptions: Record<string, unknown> | undefined,
): { path: string; problem: string } | undefined {
  const hostConfig = createOptions?.HostConfig as { PortBindings?: unknown } | undefined;
  const bindings = hostConfig?.PortBindings;
  if (bindings === undefined || bindings === null) return undefined;
  if (typeof bindings !== 'object' || Array.isArray(bindings))
    return { path: 'HostConfig.PortBindings', problem: 'expected an object' };
  for (const containerPort of Object.values(CONTAINER_PORTS)) {
    const list = (bindings as Record<string, unknown>)[containerPort];
    if (list === undefined || list === null) continue;
    const at = `HostConfig.PortBindings["${containerPort}"]`;
    if (!Array.isArray(list)) return { path: at, problem: 'expected an array of bindings' };
    for (const [index, binding] of list.entries()) {
      const path = `${at}[${index}]`;
      if (typeof binding !== 'object' || binding === null || Array.isArray(binding))
        return { path, problem: 'expected an object like {"HostPort": "8883"}' };
      const { HostPort: hostPort, HostIp: hostIp } = binding as { HostPort?: unknown; HostIp?: unknown };
      if (hostPort !== undefined && hostPort !== '') {
        const text = typeof hostPort === 'number' ? String(hostPort) : hostPort;
        const port = typeof text === 'string' && /^\d{1,5}$/.test(text) ? Number(text) : NaN;
        if (!(port >= 0 && port <= 65535))
          return { path: `${path}.HostPort`, problem: `${JSON.stringify(hostPort)} is not a port 0..65535` };
      }
      if (hostIp !== undefined && hostIp !== '' && (typeof hostIp !== 'string' || isIP(hostIp) === 0))
        return {
          path: `${path}.HostIp`,
          problem: `${JSON.stringify(hostIp).slice(0, 60)} is not an IP address`,
        };
    }
  }
  return undefined;
}

export const sameBinding = (a: Binding | undefined, b: Binding): boolean =>
  a !== undefined && a.host === b.host && a.port === b.port;
