import rhea from 'rhea';

import type { ClientIdentity } from '../connections.js';
import {
  telemetrySource,
  type CloudToDeviceMessage,
  type HubMessage,
  type SystemProperties,
} from '../../routing/message.js';
import { bodyBytes } from './cbs.js';

/** The parts of an AMQP message the hub reads and writes (rhea's message fields). */
export interface AmqpMessage {
  message_id?: unknown;
  correlation_id?: unknown;
  user_id?: unknown;
  to?: unknown;
  content_type?: unknown;
  content_encoding?: unknown;
  absolute_expiry_time?: unknown;
  creation_time?: unknown;
  application_properties?: Record<string, unknown>;
  message_annotations?: Record<string, unknown>;
  body?: unknown;
}

/** A body of bytes as an AMQP data section (how the SDK sends and reads bodies). */
export const dataSection = (bytes: Buffer): unknown => rhea.message.data_section(bytes);

/** Application properties IoT Hub reads as system properties. */
const INBOUND_PROPERTY_NAMES: Readonly<Record<string, keyof SystemProperties>> = {
  'iothub-outputname': 'outputName',
  'iothub-ack': 'ack',
  'iothub-messageschema': 'messageSchema',
  'iothub-creation-time-utc': 'creationTime',
};

/** Message annotations IoT Hub reads as system properties. */
const INBOUND_ANNOTATION_NAMES: Readonly<Record<string, keyof SystemProperties>> = {
  'iothub-interface-id': 'interfaceId',
  'dt-subject': 'componentName',
};

/**
 * A message id or correlation id as text: a UUID (which the SDK sends as 16 bytes) in its usual
 * form, other bytes in hex, numbers and strings as they are.
 */
export function idText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) {
    const hex = value.toString('hex');
    return value.length === 16
      ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
      : hex;
  }
  return undefined;
}

const text = (value: unknown): string | undefined =>
  value instanceof Date
    ? value.toISOString()
    : typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : Buffer.isBuffer(value)
          ? value.toString('utf8')
          : undefined;

/** Telemetry a client sent on its `messages/events` link, as the hub's one internal message. */
export function inboundTelemetry(identity: ClientIdentity, amqp: AmqpMessage): HubMessage | undefined {
  const body = bodyBytes(amqp.body);
  if (body === undefined) return undefined;
  const properties: Record<string, string> = {};
  const systemProperties: SystemProperties = {};
  const set = (name: keyof SystemProperties, value: unknown) => {
    const value_ = text(value);
    if (value_ !== undefined && value_ !== '') systemProperties[name] = value_;
  };
  set('messageId', idText(amqp.message_id));
  set('correlationId', idText(amqp.correlation_id));
  set('userId', amqp.user_id);
  set('to', amqp.to);
  set('contentType', amqp.content_type);
  set('contentEncoding', amqp.content_encoding);
  set('absoluteExpiryTime', amqp.absolute_expiry_time);
  set('creationTime', amqp.creation_time);
  for (const [key, value] of Object.entries(amqp.application_properties ?? {})) {
    const system = INBOUND_PROPERTY_NAMES[key];
    if (system) set(system, value);
    else {
      const value_ = text(value);
      if (value_ !== undefined) properties[key] = value_;
    }
  }
  for (const [key, value] of Object.entries(amqp.message_annotations ?? {})) {
    const system = INBOUND_ANNOTATION_NAMES[key];
    if (system) set(system, value);
  }
  systemProperties.connectionDeviceId = identity.deviceId;
  if (identity.moduleId !== undefined) systemProperties.connectionModuleId = identity.moduleId;
  const source = telemetrySource(identity.moduleId, systemProperties.outputName);
  return { body, properties, systemProperties, source };
}

/** Message annotations IoT Hub writes on what it delivers, from system properties. */
const OUTBOUND_ANNOTATION_NAMES: readonly (readonly [keyof SystemProperties, string])[] = [
  ['connectionDeviceId', 'iothub-connection-device-id'],
  ['connectionModuleId', 'iothub-connection-module-id'],
  ['enqueuedTime', 'iothub-enqueuedtime'],
  ['interfaceId', 'iothub-interface-id'],
  ['componentName', 'dt-subject'],
];

/**
 * A message the hub delivers (a module input, with its input name in `x-opt-input-name`, or a
 * cloud-to-device message), as the SDK's AMQP transport reads it: ids, content type and encoding as
 * AMQP properties, application properties as they were sent, the body as a data section.
 */
export function outboundMessage(message: CloudToDeviceMessage, inputName?: string): AmqpMessage {
  const system = message.systemProperties;
  const amqp: AmqpMessage = {
    body: dataSection(message.body),
    application_properties: { ...message.properties },
    message_annotations: {},
  };
  if (system.messageId) amqp.message_id = system.messageId;
  if (system.correlationId) amqp.correlation_id = system.correlationId;
  if (system.to) amqp.to = system.to;
  if (system.contentType) amqp.content_type = system.contentType;
  if (system.contentEncoding) amqp.content_encoding = system.contentEncoding;
  if (system.userId) amqp.user_id = Buffer.from(system.userId, 'utf8');
  if (system.absoluteExpiryTime) {
    const at = new Date(system.absoluteExpiryTime);
    if (!Number.isNaN(at.getTime())) amqp.absolute_expiry_time = at;
  }
  if (system.ack) amqp.application_properties!['iothub-ack'] = system.ack;
  if (system.outputName) amqp.application_properties!['iothub-outputname'] = system.outputName;
  for (const [name, annotation] of OUTBOUND_ANNOTATION_NAMES) {
    const value = system[name];
    if (value) amqp.message_annotations![annotation] = value;
  }
  if (inputName !== undefined) amqp.message_annotations!['x-opt-input-name'] = inputName;
  return amqp;
}
