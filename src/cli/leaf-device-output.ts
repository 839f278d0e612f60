import Table from 'cli-table3';

import type { CreatedLeafDevice, LeafDeviceDetails } from '../runtime/daemon/management-types.js';

/** The connection string a leaf device uses to reach IoT Hub through this gateway. */
export function gatewayConnectionString(created: CreatedLeafDevice): string {
  return `${created.connectionString};GatewayHostName=${created.gatewayHostName}`;
}

/** `iotedge identity add`: what was registered, then the connection string on a line of its own. */
export function renderCreatedDevice(created: CreatedLeafDevice): string {
  const how =
    created.authType === 'Sas'
      ? 'SAS; its keys are shown only this once, keep them secret'
      : `X.509, thumbprint ${[created.primaryThumbprint, created.secondaryThumbprint].filter(Boolean).join(' or ')}`;
  return `Added leaf device ${created.deviceId} (${how}). Its connection string:\n${gatewayConnectionString(created)}\n`;
}

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** `iotedge identity list`: one row per device, sorted by id, aligned like `iotedge list`. */
export function renderDeviceTable(devices: readonly LeafDeviceDetails[]): string {
  const table = new Table({
    head: ['DEVICE ID', 'AUTH', 'STATUS', 'CREATED'],
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  const sorted = [...devices].sort((a, b) =>
    Buffer.compare(Buffer.from(a.deviceId), Buffer.from(b.deviceId)),
  );
  for (const device of sorted) {
    table.push([
      device.deviceId,
      device.authType === 'Sas' ? 'sas' : 'x509',
      device.connectionState.toLowerCase(),
      device.createdTime,
    ]);
  }
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}
