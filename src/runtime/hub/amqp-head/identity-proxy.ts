import type { Delivery, Receiver, Sender } from 'rhea';

import type { CloudToDeviceMessage, HubMessage } from '../../routing/message.js';
import type { ClientIdentity } from '../connections.js';
import type { ClientProxy, CloseReason } from '../session/client-proxy.js';
import type { DeviceSession } from '../session/device-session.js';
import { dataSection, outboundMessage, type AmqpMessage } from './message-map.js';
import { OutboundLink } from './outbound-link.js';

/** The link kinds the hub sends on for one identity. */
export type OutboundKind = 'inputs' | 'c2d' | 'methods' | 'twin';

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/** The AMQP error a closed identity's links carry, by why the hub closed it. */
const CLOSE_ERRORS: Record<CloseReason, { condition: string; description: string }> = {
  replaced: { condition: 'amqp:link:stolen', description: 'another connection of this identity replaced it' },
  removed: { condition: 'amqp:unauthorized-access', description: 'the identity was removed' },
  expired: { condition: 'amqp:unauthorized-access', description: 'the SAS token expired' },
  'hub-closing': { condition: 'amqp:connection:forced', description: 'the hub is closing' },
};

/**
 * One identity authenticated on an AMQP connection (several may share one), as the hub core sends
 * to it (its ClientProxy): inputs and cloud-to-device messages go on the links it opened for them
 * and count as delivered when the client accepts them; method requests, twin responses and desired
 * patches go on its method and twin links.
 */
export class AmqpIdentity implements ClientProxy {
  private readonly outbound = new Map<OutboundKind, OutboundLink>();
  private readonly receivers = new Set<Receiver>();
  private readonly inFlight = new Map<Delivery, Pending>();
  private closed = false;

  constructor(
    readonly identity: ClientIdentity,
    readonly session: DeviceSession,
    /** Called once the hub closed this identity (its links are closed by then). */
    private readonly onClosed: (identity: AmqpIdentity, reason: CloseReason) => void,
  ) {}

  /** The client opened a link to receive `kind` on (a new one replaces the previous). */
  addOutbound(kind: OutboundKind, sender: Sender): void {
    this.outbound.set(kind, new OutboundLink(sender));
  }

  /** A link of this identity the client sends on. */
  addReceiver(receiver: Receiver): void {
    this.receivers.add(receiver);
  }

  /** A link closed: forgets it; true when it was the `kind` link the hub sends on. */
  removeLink(link: Sender | Receiver): OutboundKind | undefined {
    this.receivers.delete(link as Receiver);
    for (const [kind, outbound] of this.outbound) {
      if (outbound.sender !== link) continue;
      this.outbound.delete(kind);
      outbound.drop();
      this.failInFlight(link as Sender);
      return kind;
    }
    return undefined;
  }

  sendable(sender: Sender): void {
    for (const outbound of this.outbound.values()) if (outbound.sender === sender) outbound.sendable();
  }

  deliverInput(inputName: string, message: HubMessage): Promise<void> {
    return this.deliver('inputs', outboundMessage(message, inputName));
  }

  deliverC2D(message: CloudToDeviceMessage): Promise<void> {
    return this.deliver('c2d', outboundMessage(message));
  }

  /** The client settled a delivery: accepted (or rejected: IoT Hub dead-letters it) or given back. */
  settled(delivery: Delivery, outcome: 'accepted' | 'rejected' | 'released' | 'modified'): void {
    const pending = this.inFlight.get(delivery);
    if (!pending) return;
    this.inFlight.delete(delivery);
    if (outcome === 'accepted' || outcome === 'rejected') pending.resolve();
    else
      pending.reject(
        new Error(`the client ${outcome === 'released' ? 'released' : 'abandoned'} the message`),
      );
  }

  sendDesiredPatch(patch: Record<string, unknown>, version: number): void {
    this.sendOn('twin', { body: dataSection(Buffer.from(JSON.stringify({ ...patch, $version: version }))) });
  }

  sendMethodRequest(method: string, requestId: string, payload: Buffer): void {
    this.sendOn('methods', {
      correlation_id: requestId,
      application_properties: { 'IoThub-methodname': method },
      body: dataSection(payload),
    });
  }

  /** IoT Hub's answer to a twin request: `status` (and `version`) annotations, the correlation id echoed. */
  sendTwinResponse(correlationId: unknown, status: number, body: unknown, version?: number): void {
    this.sendOn('twin', {
      correlation_id: correlationId,
      message_annotations: version === undefined ? { status } : { status, version },
      body: dataSection(body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body))),
    });
  }

  close(reason: CloseReason): void {
    if (this.closed) return;
    const error = CLOSE_ERRORS[reason];
    for (const outbound of this.outbound.values()) if (outbound.open) outbound.sender.close(error);
    for (const receiver of this.receivers) if (receiver.is_open()) receiver.close(error);
    this.gone();
    this.onClosed(this, reason);
  }

  /** The connection is gone, or the hub closed this identity: deliveries in flight go back. */
  gone(): void {
    if (this.closed) return;
    this.closed = true;
    for (const outbound of this.outbound.values()) outbound.drop();
    this.outbound.clear();
    this.receivers.clear();
    for (const pending of this.inFlight.values()) pending.reject(new Error('disconnected'));
    this.inFlight.clear();
    this.session.detach();
  }

  private deliver(kind: 'inputs' | 'c2d', message: AmqpMessage): Promise<void> {
    const outbound = this.outbound.get(kind);
    if (this.closed || !outbound) return Promise.reject(new Error('disconnected'));
    return new Promise<void>((resolve, reject) => {
      outbound.send(
        message,
        (delivery) => this.inFlight.set(delivery, { resolve, reject }),
        () => reject(new Error('disconnected')),
      );
    });
  }

  private sendOn(kind: OutboundKind, message: AmqpMessage): void {
    if (this.closed) return;
    this.outbound.get(kind)?.send(message);
  }

  private failInFlight(sender: Sender): void {
    for (const [delivery, pending] of this.inFlight) {
      if (delivery.link !== sender) continue;
      this.inFlight.delete(delivery);
      pending.reject(new Error('the link closed'));
    }
  }
}
