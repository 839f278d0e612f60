import { connect, createServer } from 'node:net';

import type Dockerode from 'dockerode';

import { isNotFound } from '../../runtime/modules/docker/docker-engine.js';
import { socketTarget, type SocketTarget } from '../../runtime/socket-uri.js';
import type { CheckDefinition } from '../types.js';
import { errorChain, failed, fatal, ok } from '../types.js';

/** The ports of the Edge Hub that iotedged embeds: MQTT, AMQP and HTTPS/WebSockets. */
export const EMBEDDED_HUB_PORTS = [8883, 5671, 443] as const;

/** The distinct host ports of a container's HostConfig.PortBindings, in order of appearance. */
export function hostPortsOf(portBindings: Dockerode.PortMap | null | undefined): number[] {
  const ports: number[] = [];
  for (const bindings of Object.values(portBindings ?? {})) {
    for (const binding of bindings ?? []) {
      const port = Number(binding.HostPort);
      if (Number.isInteger(port) && port > 0 && !ports.includes(port)) ports.push(port);
    }
  }
  return ports;
}

export type BindOutcome =
  { kind: 'free' } | { kind: 'in-use' } | { kind: 'denied' } | { kind: 'error'; error: Error };

/** Tries to listen on 0.0.0.0:`port` the way the hub would, and lets go at once. */
export function tryBind(port: number): Promise<BindOutcome> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve({ kind: 'in-use' });
      else if (error.code === 'EACCES' || error.code === 'EPERM') resolve({ kind: 'denied' });
      else resolve({ kind: 'error', error });
    });
    server.listen({ host: '0.0.0.0', port, exclusive: true }, () =>
      server.close(() => resolve({ kind: 'free' })),
    );
  });
}

/** Whether something accepts connections at the daemon's management endpoint, i.e. iotedged is running. */
function daemonAnswers(managementUri: string, signal: AbortSignal): Promise<boolean> {
  let target: SocketTarget | undefined;
  try {
    target = socketTarget(new URL(managementUri));
  } catch {
    return Promise.resolve(false);
  }
  if (target === undefined) return Promise.resolve(false);
  const endpoint = target;
  return new Promise((resolve) => {
    const socket =
      'socketPath' in endpoint
        ? connect({ path: endpoint.socketPath, timeout: 2_000 })
        : connect({ ...endpoint, timeout: 2_000 });
    const onAbort = () => done(false);
    const done = (answer: boolean) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(answer);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

const listPorts = (ports: number[]) => ports.join(', ');
const plural = (ports: number[], one: string, many: string) => (ports.length === 1 ? one : many);

export const edgeHubHostPortsCheck: CheckDefinition = {
  id: 'edgehub-host-ports',
  needs: ['settings', 'docker'],
  run: async (ctx) => {
    let ports: number[];
    let container: boolean;
    try {
      const inspect = await ctx
        .fact('docker')
        .client.getContainer('edgeHub')
        .inspect({ abortSignal: ctx.signal });
      if (inspect.State?.Running) return ok({ case: 'container', container_running: true });
      ports = hostPortsOf(inspect.HostConfig?.PortBindings);
      container = true;
    } catch (error) {
      if (!isNotFound(error))
        return failed('Could not check current state of edgeHub container', errorChain(error));
      ports = [...EMBEDDED_HUB_PORTS];
      container = false;
    }
    const info: Record<string, unknown> = { case: container ? 'container' : 'embedded', ports };

    const outcomes: { port: number; outcome: BindOutcome }[] = [];
    for (const port of ports) outcomes.push({ port, outcome: await tryBind(port) });
    const portsWith = (kind: BindOutcome['kind']) =>
      outcomes.filter((o) => o.outcome.kind === kind).map((o) => o.port);

    const denied = portsWith('denied');
    if (denied.length > 0) {
      return fatal(
        `Permission denied when binding to host ${plural(denied, 'port', 'ports')} ${listPorts(denied)}.\n` +
          'You might need to run this command as root.',
        [],
        info,
      );
    }
    const inUse = portsWith('in-use');
    if (inUse.length > 0) {
      // The embedded hub is part of iotedged: while the daemon runs, these ports are busy because of it.
      if (!container && (await daemonAnswers(ctx.fact('settings').connect.management_uri, ctx.signal))) {
        return ok({ ...info, ports_in_use: inUse, held_by_iotedged: true });
      }
      return failed(
        `Edge Hub cannot bind to host ${plural(inUse, 'port', 'ports')} ${listPorts(inUse)}: ` +
          `${plural(inUse, 'it is', 'they are')} already in use by another process.`,
        [],
        { ...info, ports_in_use: inUse },
      );
    }
    const other = outcomes.find((o) => o.outcome.kind === 'error');
    if (other?.outcome.kind === 'error') {
      return failed(
        `Edge Hub cannot bind to host port ${other.port}.`,
        errorChain(other.outcome.error),
        info,
      );
    }
    return ok(info);
  },
};
