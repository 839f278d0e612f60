/** The values IoT Edge takes for edgeHub's `UpstreamProtocol` environment variable. */
export const UPSTREAM_PROTOCOLS = ['Amqp', 'AmqpWs', 'Mqtt', 'MqttWs'] as const;
export type UpstreamProtocol = (typeof UPSTREAM_PROTOCOLS)[number];

/**
 * edgeHub's `UpstreamProtocol` env, read case-insensitively as IoT Edge does: the protocol, undefined
 * when the variable is not set, or the problem with its value.
 */
export function parseUpstreamProtocol(
  env: Record<string, string>,
): UpstreamProtocol | undefined | { problem: string } {
  const value = env.UpstreamProtocol;
  if (value === undefined) return undefined;
  const protocol = UPSTREAM_PROTOCOLS.find((name) => name.toLowerCase() === value.trim().toLowerCase());
  return (
    protocol ?? {
      problem: `${JSON.stringify(value)} is not an upstream protocol (${UPSTREAM_PROTOCOLS.join(', ')})`,
    }
  );
}
