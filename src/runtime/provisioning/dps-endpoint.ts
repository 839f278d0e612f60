/** Where DPS is reached: `global_endpoint`'s host and port (443 unless the URL names one). Pure. */
export interface DpsEndpoint {
  /** Host name or address, IPv6 without brackets. */
  host: string;
  port: number;
}

export const DPS_HTTPS_PORT = 443;
/** DPS's MQTT-over-TLS port; a `global_endpoint` with a port serves both transports on that port. */
export const DPS_MQTT_PORT = 8883;

export function dpsEndpoint(globalEndpoint: string): DpsEndpoint {
  const url = new URL(globalEndpoint);
  if (url.protocol !== 'https:') {
    throw new Error(
      `provisioning.global_endpoint: ${JSON.stringify(globalEndpoint)} is not an https:// URL (DPS is reached over TLS)`,
    );
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: url.port === '' ? DPS_HTTPS_PORT : Number(url.port) };
}

/** `host:port` as an MQTT URI takes it, IPv6 in brackets. */
export function hostWithPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
