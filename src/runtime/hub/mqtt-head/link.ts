import type { Client } from 'aedes';

import type { ClientIdentity } from '../connections.js';
import type { CloudToDeviceMessage, HubMessage } from '../../routing/message.js';
import type { ClientProxy, CloseReason } from '../session/client-proxy.js';

/** Publishes to this one client (not through the broker's fan-out). */
export type DirectPublish = (client: Client, topic: string, payload: Buffer, qos: 0 | 1) => Promise<void>;

export interface OutboundTopics {
  input(identity: ClientIdentity, inputName: string, message: HubMessage): string;
  c2d(identity: ClientIdentity, message: CloudToDeviceMessage): string;
  desiredPatch(version: number): string;
  methodRequest(method: string, requestId: string): string;
  twinResponse(status: number, requestId: string, version?: number): string;
}

interface InFlight {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * One MQTT connection as the hub core sends through it (its ClientProxy). Input messages go at QoS 1 and count as delivered
 * when the client's PUBACK arrives (for a persistent session matched by the payload buffer, which
 * the broker keeps by reference; for a clean session by order); twin and method traffic is QoS 0,
 * as the SDK uses it.
 */
export class MqttLink implements ClientProxy {
  private readonly inFlight = new Map<Buffer, InFlight>();
  private closed = false;

  constructor(
    readonly identity: ClientIdentity,
    readonly client: Client,
    private readonly topics: OutboundTopics,
    private readonly publish: DirectPublish,
  ) {}

  deliverInput(inputName: string, message: HubMessage): Promise<void> {
    return this.deliverQos1(this.topics.input(this.identity, inputName, message), message.body);
  }

  deliverC2D(message: CloudToDeviceMessage): Promise<void> {
    return this.deliverQos1(this.topics.c2d(this.identity, message), message.body);
  }

  /** Publishes at QoS 1 and resolves once the client has acknowledged it (PUBACK). */
  private deliverQos1(topic: string, body: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('disconnected'));
    // a Buffer object of its own per delivery (a view on the same bytes, no copy), so that its
    // acknowledgement is told apart from another delivery of the same message
    const payload = Buffer.from(body.buffer, body.byteOffset, body.length);
    return new Promise<void>((resolve, reject) => {
      this.inFlight.set(payload, { resolve, reject });
      this.publish(this.client, topic, payload, 1).catch((error: Error) => {
        this.inFlight.delete(payload);
        reject(error);
      });
    });
  }

  /**
   * A PUBACK from a clean-session client. The broker keeps nothing for such a session, so its
   * acknowledgement event names no packet; but MQTT 3.1.1 has a client acknowledge QoS 1 messages
   * in the order they arrived [MQTT-4.6.0-2], and deliveries are the only QoS 1 messages the
   * hub sends (inputs and cloud-to-device messages), so it acknowledges the oldest delivery in flight (the map keeps sending order).
   */
  pubackInOrder(): void {
    if (!this.client.clean) return;
    const oldest = this.inFlight.keys().next();
    if (!oldest.done) this.acknowledged(oldest.value);
  }

  acknowledged(payload: Buffer): void {
    const pending = this.inFlight.get(payload);
    if (!pending) return;
    this.inFlight.delete(payload);
    pending.resolve();
  }

  sendDesiredPatch(patch: Record<string, unknown>, version: number): void {
    this.direct(
      this.topics.desiredPatch(version),
      Buffer.from(JSON.stringify({ ...patch, $version: version })),
    );
  }

  sendMethodRequest(method: string, requestId: string, payload: Buffer): void {
    this.direct(this.topics.methodRequest(method, requestId), payload);
  }

  sendTwinResponse(status: number, requestId: string, body: unknown, version?: number): void {
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
    this.direct(this.topics.twinResponse(status, requestId, version), payload);
  }

  close(reason: CloseReason): void {
    // a will would be published on the authority of credentials that ran out
    if (reason === 'expired') (this.client as Client & { will?: unknown }).will = null;
    if (!this.closed) this.client.close();
    this.disconnected();
  }

  /** The connection is gone: deliveries still in flight go back to their endpoints. */
  disconnected(): void {
    this.closed = true;
    for (const pending of this.inFlight.values()) pending.reject(new Error('disconnected'));
    this.inFlight.clear();
  }

  private direct(topic: string, payload: Buffer): void {
    if (this.closed) return;
    this.publish(this.client, topic, payload, 0).catch(() => undefined);
  }
}
