import type { LeafDevice } from '../hub/leaf-device-spec.js';
import type { CreatedLeafDevice, LeafDeviceDetails } from './management-types.js';

/** A leaf device as GET /devices shows it: thumbprints (public), never keys. */
export function leafDeviceDetails(device: LeafDevice, connected: boolean): LeafDeviceDetails {
  const auth = device.authentication;
  return {
    deviceId: device.deviceId,
    authType: auth.type === 'sas' ? 'Sas' : 'X509',
    createdTime: device.createdTime,
    connectionState: connected ? 'Connected' : 'Disconnected',
    ...(device.edge ? { edge: true as const } : {}),
    ...(device.parentId === undefined ? {} : { parentId: device.parentId }),
    ...(auth.type === 'x509'
      ? {
          primaryThumbprint: auth.primaryThumbprint,
          ...(auth.secondaryThumbprint ? { secondaryThumbprint: auth.secondaryThumbprint } : {}),
        }
      : {}),
  };
}

/**
 * The answer to POST /devices: the device, its keys and its connection string to IoT Hub's form
 * (the device appends `;GatewayHostName=…` to reach it through this gateway).
 */
export function createdLeafDevice(
  device: LeafDevice,
  iothubHostname: string,
  gatewayHostName: string,
): CreatedLeafDevice {
  const auth = device.authentication;
  const base = `HostName=${iothubHostname};DeviceId=${device.deviceId}`;
  return {
    ...leafDeviceDetails(device, false),
    ...(auth.type === 'sas'
      ? {
          primaryKey: auth.primaryKey,
          secondaryKey: auth.secondaryKey,
          connectionString: `${base};SharedAccessKey=${auth.primaryKey}`,
        }
      : { connectionString: `${base};x509=true` }),
    gatewayHostName,
  };
}
