/**
 * The one internal message of the Edge Hub. Protocol heads (MQTT, later AMQP) translate their wire
 * format into it; routing, endpoints and the store only ever see this shape.
 */

/** System properties by the names route conditions use after `$` (IoT Hub's names). */
export const SYSTEM_PROPERTY_NAMES = [
  'messageId',
  'correlationId',
  'to',
  'userId',
  'contentType',
  'contentEncoding',
  'absoluteExpiryTime',
  'outputName',
  'inputName',
  'messageSchema',
  'creationTime',
  'enqueuedTime',
  'connectionDeviceId',
  'connectionModuleId',
  'connectionDeviceGenerationId',
  'connectionAuthMethod',
  'interfaceId',
  'componentName',
  'operation',
  'ack',
] as const;

export type SystemPropertyName = (typeof SYSTEM_PROPERTY_NAMES)[number];

export type SystemProperties = Partial<Record<SystemPropertyName, string>>;

/** Where a message came from, as route sources match it. */
export type MessageSource =
  | '/messages'
  | `/messages/modules/${string}`
  | `/messages/modules/${string}/outputs/${string}`
  | '/twinChangeNotifications';

export interface HubMessage {
  body: Buffer;
  /** Application properties, names as the sender wrote them, values always strings. */
  properties: Record<string, string>;
  systemProperties: SystemProperties;
  source: MessageSource;
}

/** A cloud-to-device message: it is relayed to one device, never routed. */
export type CloudToDeviceMessage = Pick<HubMessage, 'body' | 'properties' | 'systemProperties'>;

/** The routing source of telemetry sent by a device or by a module (on an output or not). */
export function telemetrySource(moduleId?: string, outputName?: string): MessageSource {
  if (moduleId === undefined) return '/messages';
  if (outputName === undefined || outputName === '') return `/messages/modules/${moduleId}`;
  return `/messages/modules/${moduleId}/outputs/${outputName}`;
}

/** The bytes a message takes: body, and the names and values of its properties. */
export function messageSize(message: HubMessage): number {
  let size = message.body.length;
  for (const key in message.properties) size += key.length + message.properties[key]!.length;
  const system = message.systemProperties as Record<string, string | undefined>;
  for (const key in system) size += key.length + (system[key]?.length ?? 0);
  return size;
}
