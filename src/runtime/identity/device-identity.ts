import { parseConnectionString } from '../config/connection-string.js';
import type { Settings } from '../config/settings.js';

/** Who this device is, as far as the configuration tells without reaching the cloud. */
export interface DeviceIdentity {
  deviceId: string;
  iothubHostname: string;
  /** The device's symmetric key (base64) when provisioned with one. A secret: never log it. */
  deviceKey?: string;
}

/**
 * Manual provisioning names the device and hub in config.yaml; DPS and external provisioning
 * learn them when provisioning, so until then they are unknown (empty).
 */
export function deviceIdentity(settings: Settings): DeviceIdentity {
  const provisioning = settings.provisioning;
  if (provisioning.source === 'manual') {
    if (provisioning.authentication?.method === 'x509') {
      return {
        deviceId: provisioning.authentication.device_id,
        iothubHostname: provisioning.authentication.iothub_hostname,
      };
    }
    const connectionString = manualConnectionString(settings);
    if (connectionString !== undefined) {
      try {
        const parsed = parseConnectionString(connectionString);
        return {
          deviceId: parsed.deviceId,
          iothubHostname: parsed.hostName,
          deviceKey: parsed.sharedAccessKey,
        };
      } catch {
        // `iotedge check` reports a malformed connection string; the daemon runs modules anyway.
      }
    }
  }
  return { deviceId: '', iothubHostname: '' };
}

/** The device connection string of manual provisioning (either form of config.yaml), if any. */
export function manualConnectionString(settings: Settings): string | undefined {
  const provisioning = settings.provisioning;
  if (provisioning.source !== 'manual') return undefined;
  return (
    provisioning.device_connection_string ??
    (provisioning.authentication?.method === 'device_connection_string'
      ? provisioning.authentication.device_connection_string
      : undefined)
  );
}

/** The provisioning type string of SystemInfo (as IoT Edge 1.1 has it). */
export function provisioningType(settings: Settings): string {
  const provisioning = settings.provisioning;
  if (provisioning.source === 'manual') {
    return provisioning.authentication?.method === 'x509' ? 'manual.x509' : 'manual.device_connection_string';
  }
  if (provisioning.source === 'dps') return `dps.${provisioning.attestation.method}`;
  return 'external';
}
