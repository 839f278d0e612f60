import Table from 'cli-table3';

import type { CreatedLeafDevice, LeafDeviceDetails } from '../runtime/daemon/management-types.js';

/**
 * The connection string a device uses: a leaf device of this gateway reaches IoT Hub through it
 * (`GatewayHostName`); an edge device (a child) and a device below a child connect elsewhere (the
 * child names its parent in config.yaml `parent_hostname`), so theirs has no gateway.
 */
export function gatewayConnectionString(created: CreatedLeafDevice): string {
  if (created.edge || created.parentId !== undefined) return created.connectionString;
  return `${created.connectionString};GatewayHostName=${created.gatewayHostName}`;
}

/** `iotedge identity add`: what was registered, then the connection string on a line of its own. */
export function renderCreatedDevice(created: CreatedLeafDevice): string {
  const how =
    created.authType === 'Sas'
      ? 'SAS; its keys are shown only this once, keep them secret'
      : `X.509, thumbprint ${[created.primaryThumbprint, created.secondaryThumbprint].filter(Boolean).join(' or ')}`;
  const connection = gatewayConnectionString(created);
  if (created.edge) {
    return (
      `Added edge device ${created.deviceId} (${how}), a child of this device. Its connection string, for its ` +
      `config.yaml (with parent_hostname: ${created.gatewayHostName}):\n${connection}\n`
    );
  }
  if (created.parentId !== undefined) {
    return (
      `Added leaf device ${created.deviceId} (${how}) below edge device ${created.parentId}; register it there too, ` +
      `with the same key. Its connection string (add ;GatewayHostName=<${created.parentId}'s hostname>):\n${connection}\n`
    );
  }
  return `Added leaf device ${created.deviceId} (${how}). Its connection string:\n${connection}\n`;
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

/**
 * `iotedge identity list`: one row per device, sorted by id, aligned like `iotedge list`; on a
 * child edge device that authenticates devices from its parent's scope, a last column says where
 * each is registered (`here` or `parent`).
 */
export function renderDeviceTable(devices: readonly LeafDeviceDetails[]): string {
  const fromParent = devices.some((device) => device.registeredAt === 'parent');
  const table = new Table({
    head: ['DEVICE ID', 'AUTH', 'STATUS', 'CREATED', ...(fromParent ? ['REGISTERED'] : [])],
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
      ...(fromParent ? [device.registeredAt ?? 'here'] : []),
    ]);
  }
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}
