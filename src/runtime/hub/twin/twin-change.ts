/** Twin changes as routed messages (`FROM /twinChangeNotifications`), and questions about a patch. */
import type { HubMessage } from '../../routing/message.js';
import type { TwinObject } from './twin-json.js';

export const TWIN_CHANGE_SOURCE = '/twinChangeNotifications';
export const TWIN_CHANGE_SCHEMA = 'twinChangeNotification';

export interface TwinOwner {
  deviceId: string;
  moduleId?: string;
}

/**
 * The message routed when `owner` patches its reported properties. The body has IoT Hub's shape,
 * `{"version": n, "properties": {"reported": patch}}`, so that `twin_change_includes(properties.reported.x)`
 * and `$body.properties.reported.x` mean what they mean in IoT Hub; connection ids = the client that
 * patched (they reach other clients and upstream as `$.cdid`/`$.cmid`).
 */
export function twinChangeNotification(
  owner: TwinOwner,
  patch: TwinObject,
  version: number,
  enqueuedTime?: Date,
): HubMessage {
  const message: HubMessage = {
    body: Buffer.from(JSON.stringify({ version, properties: { reported: patch } })),
    properties: {},
    systemProperties: {
      messageSchema: TWIN_CHANGE_SCHEMA,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      connectionDeviceId: owner.deviceId,
    },
    source: TWIN_CHANGE_SOURCE,
  };
  if (owner.moduleId !== undefined) message.systemProperties.connectionModuleId = owner.moduleId;
  if (enqueuedTime !== undefined) message.systemProperties.enqueuedTime = enqueuedTime.toISOString();
  return message;
}
