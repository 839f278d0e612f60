import type { ConnectionGuardOptions } from './connection-guard.js';

/**
 * How long a connection to one of the hub's listeners may take to get going, and how many
 * connections each listener holds at once. The defaults serve a device; the environment variables
 * exist so that tests need not wait a minute for a deadline.
 */
export interface ListenerLimits {
  /** From TCP accept to the end of the TLS handshake (on the HTTP ports: to the first request). */
  handshakeMs: number;
  /** From the end of the TLS handshake to the MQTT CONNECT. */
  connectMs: number;
  /** Connections open at once per listener; beyond it a new connection is closed at once. */
  maxConnections: { mqtt: number; https: number; amqp: number; metrics: number };
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  handshakeMs: 10_000,
  connectMs: 60_000,
  maxConnections: { mqtt: 2048, https: 256, amqp: 2048, metrics: 16 },
};

export const HANDSHAKE_TIMEOUT_VARIABLE = 'IOTEDGE_HUB_HANDSHAKE_TIMEOUT_SECS';
export const CONNECT_TIMEOUT_VARIABLE = 'IOTEDGE_HUB_CONNECT_TIMEOUT_SECS';
export const MAX_CONNECTIONS_VARIABLE = 'IOTEDGE_HUB_MAX_CONNECTIONS';

/** A day: far beyond any sensible deadline, and well inside what a timer can hold. */
const MAX_SECONDS = 86_400;
const MAX_CONNECTIONS = 1_000_000;

function seconds(env: Record<string, string | undefined>, name: string, fallbackMs: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallbackMs;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > MAX_SECONDS) {
    throw new Error(
      `${name}: ${JSON.stringify(text)} is not a number of seconds above 0 and at most ${MAX_SECONDS}`,
    );
  }
  return Math.round(value * 1000);
}

/** `mqtt=20,https=8,amqp=20,metrics=4`, any subset; the listeners not named keep their default. */
function connectionCaps(
  env: Record<string, string | undefined>,
  defaults: ListenerLimits['maxConnections'],
): ListenerLimits['maxConnections'] {
  const text = env[MAX_CONNECTIONS_VARIABLE];
  const caps = { ...defaults };
  if (text === undefined || text === '') return caps;
  for (const entry of text.split(',')) {
    const [name, value, ...rest] = entry.split('=');
    const count = Number(value);
    if (
      rest.length > 0 ||
      !(name === 'mqtt' || name === 'https' || name === 'amqp' || name === 'metrics') ||
      !Number.isSafeInteger(count) ||
      count < 1 ||
      count > MAX_CONNECTIONS
    ) {
      throw new Error(
        `${MAX_CONNECTIONS_VARIABLE}: ${JSON.stringify(entry)} is not mqtt=N, https=N, amqp=N or metrics=N with N from 1 to ${MAX_CONNECTIONS}`,
      );
    }
    caps[name] = count;
  }
  return caps;
}

/** The limits the environment asks for, else the defaults; a value that cannot be read is an error naming it. */
export function listenerLimitsFromEnv(env: Record<string, string | undefined>): ListenerLimits {
  const defaults = DEFAULT_LISTENER_LIMITS;
  return {
    handshakeMs: seconds(env, HANDSHAKE_TIMEOUT_VARIABLE, defaults.handshakeMs),
    connectMs: seconds(env, CONNECT_TIMEOUT_VARIABLE, defaults.connectMs),
    maxConnections: connectionCaps(env, defaults.maxConnections),
  };
}

/** The guard of each of the hub's listeners under `limits`. */
export function listenerGuards(
  limits: ListenerLimits,
  log: (line: string) => void,
): Record<'mqtt' | 'https' | 'amqp' | 'metrics', ConnectionGuardOptions> {
  const guard = (name: string, maxConnections: number, settledBy: 'handshake' | 'request') => ({
    name,
    maxConnections,
    deadlineMs: limits.handshakeMs,
    settledBy,
    log,
  });
  return {
    mqtt: guard('MQTT', limits.maxConnections.mqtt, 'handshake'),
    https: guard('HTTPS', limits.maxConnections.https, 'request'),
    amqp: guard('AMQP', limits.maxConnections.amqp, 'handshake'),
    metrics: guard('metrics', limits.maxConnections.metrics, 'request'),
  };
}
