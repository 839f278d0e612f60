import type { HubPorts } from './types.js';

export const DEFAULT_HUB_PORTS: HubPorts = { amqp: 5671, https: 443, mqtt: 8883 };

/**
 * `IOTEDGE_CHECK_IOTHUB_PORTS=amqp=15671,https=18443,mqtt=18883` points the hub connectivity
 * checks at other ports: how tests aim them at unprivileged loopback servers, and how a device
 * behind a port-mapping gateway can be checked. Unset or empty means the IoT Hub ports.
 */
export function parseHubPorts(value: string | undefined): HubPorts {
  const ports: HubPorts = { ...DEFAULT_HUB_PORTS };
  for (const part of (value ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^(amqp|https|mqtt)=(\d{1,5})$/.exec(part);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) {
      throw new Error(
        `IOTEDGE_CHECK_IOTHUB_PORTS: "${part}" is not of the form amqp=PORT, https=PORT or mqtt=PORT (1-65535)`,
      );
    }
    ports[match[1] as keyof HubPorts] = port;
  }
  return ports;
}
