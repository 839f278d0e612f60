/**
 * What the hub's upstream link puts on the MQTT wire when it connects as one identity on behalf of
 * its own `$edgeHub` (IoT Hub's MQTT device protocol, as the C# device SDK writes it for IoT Edge):
 * client id `device` or `device/module`; username `{iothub}/{client id}/?api-version=…&
 * DeviceClientType=…&auth-chain={target};{edge device}` (the actor, this edge device, last); password
 * the SAS token of `{edge device}/$edgeHub`. The hub's own identity connects without an auth-chain.
 * Pure: no I/O.
 */
import { EDGE_HUB_MODULE_ID } from '../auth-chain.js';
import { encodeUpstreamPropertyBag } from '../mqtt/property-bag.js';
import { telemetryTopic, type WireIdentity } from '../mqtt/topics.js';
import type { HubMessage } from '../../routing/message.js';

export const UPSTREAM_API_VERSION = '2018-06-30';

export interface UpstreamIdentity {
  deviceId: string;
  moduleId?: string;
}

export const identityId = (identity: UpstreamIdentity): string =>
  identity.moduleId === undefined ? identity.deviceId : `${identity.deviceId}/${identity.moduleId}`;

/** The identity a message goes upstream as: its origin, else the hub itself (`{edge}/$edgeHub`). */
export function messageOrigin(message: HubMessage, edgeDeviceId: string): UpstreamIdentity {
  const { connectionDeviceId, connectionModuleId } = message.systemProperties;
  if (connectionDeviceId === undefined || connectionDeviceId === '') {
    return { deviceId: edgeDeviceId, moduleId: EDGE_HUB_MODULE_ID };
  }
  return connectionModuleId === undefined || connectionModuleId === ''
    ? { deviceId: connectionDeviceId }
    : { deviceId: connectionDeviceId, moduleId: connectionModuleId };
}

/** The auth-chain of a connection as `target` acted for by `edgeDeviceId`; none for the hub itself. */
export function authChainFor(target: UpstreamIdentity, edgeDeviceId: string): string | undefined {
  if (target.deviceId === edgeDeviceId && target.moduleId === EDGE_HUB_MODULE_ID) return undefined;
  return `${identityId(target)};${edgeDeviceId}`;
}

export function upstreamUsername(options: {
  iothubHostname: string;
  target: UpstreamIdentity;
  edgeDeviceId: string;
  productInfo: string;
}): string {
  const { iothubHostname, target, edgeDeviceId, productInfo } = options;
  const chain = authChainFor(target, edgeDeviceId);
  return (
    `${iothubHostname}/${identityId(target)}/?api-version=${UPSTREAM_API_VERSION}` +
    `&DeviceClientType=${encodeURIComponent(productInfo)}` +
    (chain === undefined ? '' : `&auth-chain=${encodeURIComponent(chain)}`)
  );
}

/** The SAS audience of the hub's own module identity: the token every upstream connection presents. */
export function edgeHubAudience(iothubHostname: string, edgeDeviceId: string): string {
  return `${iothubHostname}/devices/${edgeDeviceId}/modules/${EDGE_HUB_MODULE_ID}`;
}

/** Topic of a message published upstream as `origin`, its properties encoded as a device sends them. */
export function upstreamTopic(origin: WireIdentity, message: HubMessage): string {
  return telemetryTopic(origin, encodeUpstreamPropertyBag(message));
}
