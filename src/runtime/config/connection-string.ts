/**
 * Device connection strings (`HostName=…;DeviceId=…;SharedAccessKey=…`), parsed with the rules and
 * messages of IoT Edge 1.1. Messages never repeat the string.
 */

export const CONNECTION_STRING_PLACEHOLDER = '<ADD DEVICE CONNECTION STRING HERE>';

const DEVICE_ID_PATTERN = /^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$/;
const HOSTNAME_PATTERN = /^[a-zA-Z0-9_\-.]+$/;
// Unpadded base64 (the parser drops everything after a second `=`, so padding never survives).
const BASE64_PATTERN = /^[A-Za-z0-9+/]*$/;

export interface DeviceConnection {
  hostName: string;
  deviceId: string;
  sharedAccessKey: string;
}

export class ConnectionStringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionStringError';
  }
}

const missing = (parameter: string) =>
  new ConnectionStringError(`The Connection String is missing required parameter ${parameter}`);
const malformed = (parameter: string) =>
  new ConnectionStringError(`The Connection String has a malformed value for parameter ${parameter}.`);

export function parseConnectionString(cs: string): DeviceConnection {
  if (cs === '') {
    throw new ConnectionStringError(
      'The Connection String is empty. Please update the config.yaml and provide the IoTHub connection information.',
    );
  }
  if (cs === CONNECTION_STRING_PLACEHOLDER) {
    throw new ConnectionStringError(
      'Edge device information is required.\n' +
        'Please update config.yaml with the IoT Hub connection information.\n' +
        'See https://aka.ms/iot-edge-configure-linux for more details.',
    );
  }

  let sharedAccessKey: string | undefined;
  let deviceId: string | undefined;
  let hostName: string | undefined;
  for (const section of cs.split(';')) {
    const parts = section.split('=');
    // The value is only what lies between the first and the second `=`; a later repetition of a key
    // wins, even when it has no value at all.
    const value = parts.length > 1 ? parts[1] : undefined;
    if (parts[0] === 'SharedAccessKey') sharedAccessKey = value;
    else if (parts[0] === 'DeviceId') deviceId = value;
    else if (parts[0] === 'HostName') hostName = value;
  }

  if (sharedAccessKey === undefined) throw missing('SharedAccessKey');
  if (!isBase64(sharedAccessKey)) throw malformed('SharedAccessKey');
  // A missing DeviceId is reported as malformed, as 1.1 did.
  if (deviceId === undefined || !DEVICE_ID_PATTERN.test(deviceId)) throw malformed('DeviceId');
  if (hostName === undefined) throw missing('HostName');
  if (!HOSTNAME_PATTERN.test(hostName)) throw malformed('HostName');
  return { hostName, deviceId, sharedAccessKey };
}

function isBase64(value: string): boolean {
  return value !== '' && BASE64_PATTERN.test(value) && value.length % 4 !== 1;
}
