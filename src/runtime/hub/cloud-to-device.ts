import { randomUUID } from 'node:crypto';

import type { ConnectionRegistry } from './connections.js';
import { HubRequestError } from './hub-request-error.js';
import type { CloudToDeviceMessage } from '../routing/message.js';

/** A cloud-to-device message as an operator sends one (what `az iot device c2d-message send` takes). */
export interface CloudToDeviceRequest {
  body: Buffer;
  properties?: Record<string, string>;
  messageId?: string;
  correlationId?: string;
  /** How long the device may take to complete the message (IoT Hub's default lock is 60 s). */
  ackTimeoutInSeconds?: number;
}

const MAX_ACK_TIMEOUT_SECS = 300;
/** IoT Hub's limit on a cloud-to-device message. */
const MAX_C2D_BYTES = 64 * 1024;

/**
 * Cloud-to-device messages to the devices connected through this gateway. As in IoT Edge they are
 * not stored: a message goes to a device that is connected and subscribed now, and counts as
 * completed when the device acknowledges it (MQTT PUBACK).
 */
export class CloudToDeviceSender {
  constructor(private readonly connections: ConnectionRegistry) {}

  /** Resolves with the message id once the device has completed the message. */
  async send(deviceId: string, request: CloudToDeviceRequest): Promise<{ messageId: string }> {
    const timeoutSecs = request.ackTimeoutInSeconds ?? 60;
    if (!Number.isFinite(timeoutSecs) || timeoutSecs <= 0 || timeoutSecs > MAX_ACK_TIMEOUT_SECS)
      throw new HubRequestError(
        400,
        `ackTimeoutInSeconds must be more than 0 and at most ${MAX_ACK_TIMEOUT_SECS}`,
      );
    if (request.body.length > MAX_C2D_BYTES)
      throw new HubRequestError(400, `the message is ${request.body.length} bytes; at most ${MAX_C2D_BYTES}`);
    for (const [name, value] of Object.entries(request.properties ?? {})) {
      if (name === '' || typeof value !== 'string')
        throw new HubRequestError(
          400,
          `properties.${name}: application properties are non-empty names with string values`,
        );
    }
    const link = this.connections.get(deviceId);
    if (!link || link.identity.moduleId !== undefined || !link.subscriptions.has('c2d'))
      throw new HubRequestError(
        404,
        `${deviceId} is not connected or not subscribed to cloud-to-device messages`,
      );
    const messageId = request.messageId ?? randomUUID();
    const message: CloudToDeviceMessage = {
      body: request.body,
      properties: { ...request.properties },
      systemProperties: {
        messageId,
        to: `/devices/${deviceId}/messages/deviceBound`,
        ...(request.correlationId === undefined ? {} : { correlationId: request.correlationId }),
      },
    };
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new HubRequestError(
              504,
              `${deviceId} did not complete message ${messageId} within ${timeoutSecs} s`,
            ),
          ),
        timeoutSecs * 1000,
      );
    });
    try {
      await Promise.race([
        link.deliverC2D(message).catch(() => {
          throw new HubRequestError(404, `${deviceId} disconnected before it completed message ${messageId}`);
        }),
        overdue,
      ]);
    } finally {
      clearTimeout(timer);
    }
    return { messageId };
  }
}
