import type { Client } from 'aedes';

import type { ClientIdentity } from '../connections.js';
import type { CloudToDeviceMessage, HubMessage } from '../../routing/message.js';
import type { ClientProxy, CloseReason } from '../session/client-proxy.js';
import { publishQos1Packet, writeCorked } from './packets.js';

/** Publishes at QoS 0 to this one client (not through the broker's fan-out). */
export type DirectPublish = (client: Client, topic: string, payload: Buffer, qos: 0) => Promise<void>;

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
 * One MQTT connection as the hub core sends through it (its ClientProxy). Input and
 * cloud-to-device messages go at QoS 1, written by the link itself with message ids of its own,
 * and count as delivered when the client's PUBACK for that id arrives; the broker keeps nothing of
 * them (the hub redelivers what a lost connection left unacknowledged). Twin and method traffic is
 * QoS 0 through the broker, as the SDK uses it.
 */
export class MqttLink implements ClientProxy {
  private readonly inFlight = new Map<number, InFlight>();
  private nextMessageId = 1;
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
    const messageId = this.freeMessageId();
    return new Promise<void>((resolve, reject) => {
      this.inFlight.set(messageId, { resolve, reject });
      if (writeCorked(this.client.conn, publishQos1Packet(topic, body, messageId))) return;
      this.inFlight.delete(messageId);
      reject(new Error('disconnected'));
    });
  }

  /** A PUBACK from the client: true when it acknowledged one of this link's deliveries. */
  puback(messageId: number): boolean {
    const pending = this.inFlight.get(messageId);
    if (!pending) return false;
    this.inFlight.delete(messageId);
    pending.resolve();
    return true;
  }

  /** The next message id (1 to 65535, round) that no delivery in flight holds. */
  private freeMessageId(): number {
    for (;;) {
      const id = this.nextMessageId;
      this.nextMessageId = id >= 65_535 ? 1 : id + 1;
      if (!this.inFlight.has(id)) return id;
    }
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
