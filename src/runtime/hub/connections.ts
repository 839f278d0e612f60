import type { InputReceiver, ReceiverDirectory } from './endpoints/module-input.js';
import type { CloudToDeviceMessage } from '../routing/message.js';
import type { CloseReason } from './session/client-proxy.js';

import type { SubscriptionKind } from './mqtt/topics.js';

/** What a client subscribed to, whatever the protocol (the kinds IoT Hub's topics name). */
export type Subscription = SubscriptionKind;

/** Who is connected: `device` or `device/module`. */
export interface ClientIdentity {
  id: string;
  deviceId: string;
  moduleId?: string;
  /**
   * When a child edge device's hub connected on behalf of this identity: the auth-chain it was
   * admitted with (target first, acting edge device last). None for a direct connection.
   */
  authChain?: readonly string[];
}

/** One connected client, as the hub core talks to it: its session's subscriptions and its proxy. */
export interface ClientLink extends InputReceiver {
  readonly identity: ClientIdentity;
  /** How the client connected (`MQTT`, `AMQP-WS`...), when its head says. */
  readonly protocol?: string;
  /** When the client's session was attached. */
  readonly connectedAt?: Date;
  readonly subscriptions: ReadonlySet<Subscription>;
  sendDesiredPatch(patch: Record<string, unknown>, version: number): void;
  sendMethodRequest(method: string, requestId: string, payload: Buffer): void;
  /** Resolves once the device has completed (acknowledged) the message. */
  deliverC2D(message: CloudToDeviceMessage): Promise<void>;
  close(reason?: CloseReason): void;
}

export interface ConnectionEvents {
  connected(identity: ClientIdentity): void;
  disconnected(identity: ClientIdentity): void;
}

/**
 * The clients connected now, one per identity (a second connection replaces the first), and
 * notification of whoever waits for one to come or subscribe (endpoints, pending method calls).
 */
export class ConnectionRegistry implements ReceiverDirectory {
  private readonly links = new Map<string, ClientLink>();
  private readonly watchers = new Map<string, Set<() => void>>();
  private readonly listeners: Partial<ConnectionEvents>[] = [];

  on(listener: Partial<ConnectionEvents>): void {
    this.listeners.push(listener);
  }

  get(identityId: string): ClientLink | undefined {
    return this.links.get(identityId);
  }

  has(identityId: string): boolean {
    return this.links.has(identityId);
  }

  get size(): number {
    return this.links.size;
  }

  all(): IterableIterator<ClientLink> {
    return this.links.values();
  }

  add(link: ClientLink): void {
    const previous = this.links.get(link.identity.id);
    this.links.set(link.identity.id, link);
    if (previous && previous !== link) previous.close();
    for (const listener of this.listeners) listener.connected?.(link.identity);
    this.changed(link.identity.id);
  }

  /** Removes the link if it is still the current one for its identity. */
  remove(link: ClientLink): void {
    if (this.links.get(link.identity.id) !== link) return;
    this.links.delete(link.identity.id);
    for (const listener of this.listeners) listener.disconnected?.(link.identity);
    this.changed(link.identity.id);
  }

  /** A link's subscriptions changed. */
  changed(identityId: string): void {
    for (const watcher of this.watchers.get(identityId) ?? []) watcher();
  }

  receiver(identityId: string): InputReceiver | undefined {
    const link = this.links.get(identityId);
    return link?.subscriptions.has('inputs') ? link : undefined;
  }

  watch(identityId: string, listener: () => void): () => void {
    let set = this.watchers.get(identityId);
    if (!set) this.watchers.set(identityId, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }
}
