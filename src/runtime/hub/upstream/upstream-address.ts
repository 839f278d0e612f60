/**
 * Where the hub's upstream is: the parent edge device's hub when config.yaml names a
 * `parent_hostname`, else the IoT Hub of the connection string; both over MQTT with TLS on 8883.
 * `parent_hostname` may carry a port (`127.0.0.1:18883`), for a parent whose hub listens elsewhere
 * (several devices on one machine). Pure.
 */
export const MQTT_TLS_PORT = 8883;

export interface UpstreamAddress {
  kind: 'parent' | 'iothub';
  host: string;
  port: number;
}

export class UpstreamAddressError extends Error {}

/** `host`, `host:port`, `[v6]` or `[v6]:port`. */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  const plain = /^([^:[\]\s]+)(?::(\d+))?$/.exec(trimmed);
  const match = bracketed ?? plain;
  if (!match)
    throw new UpstreamAddressError(`${what}: expected host or host:port, got ${JSON.stringify(text)}`);
  const port = match[2] === undefined ? MQTT_TLS_PORT : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new UpstreamAddressError(`${what}: port ${match[2]} is not between 1 and 65535`);
  }
  return { host: match[1], port };
}

export function upstreamAddress(settings: {
  parentHostname?: string;
  iothubHostname: string;
}): UpstreamAddress {
  if (settings.parentHostname !== undefined && settings.parentHostname.trim() !== '') {
    return { kind: 'parent', ...parseHostPort(settings.parentHostname, 'parent_hostname') };
  }
  return { kind: 'iothub', host: settings.iothubHostname, port: MQTT_TLS_PORT };
}

/** `host:port`, IPv6 in brackets. */
export function formatAddress(address: { host: string; port: number }): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
