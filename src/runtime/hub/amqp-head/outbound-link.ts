import type { Delivery, Sender } from 'rhea';

import type { AmqpMessage } from './message-map.js';

interface Queued {
  message: AmqpMessage;
  sent?: (delivery: Delivery) => void;
  dropped?: () => void;
}

/**
 * One link the hub sends on, within the credit the client grants: a message that finds no credit
 * waits (in order) until the client grants more; those still waiting when the link ends are dropped
 * (and whoever waits for them is told).
 */
export class OutboundLink {
  private readonly waiting: Queued[] = [];

  constructor(readonly sender: Sender) {}

  /** Sends now or once there is credit; `sent` receives the delivery to follow its outcome. */
  send(message: AmqpMessage, sent?: (delivery: Delivery) => void, dropped?: () => void): void {
    if (this.waiting.length === 0 && this.sender.sendable()) {
      const delivery = this.sender.send(message as never);
      sent?.(delivery);
      return;
    }
    this.waiting.push({ message, ...(sent ? { sent } : {}), ...(dropped ? { dropped } : {}) });
  }

  /** The client granted credit: what waits goes out. */
  sendable(): void {
    while (this.waiting.length > 0 && this.sender.sendable()) {
      const next = this.waiting.shift()!;
      const delivery = this.sender.send(next.message as never);
      next.sent?.(delivery);
    }
  }

  /** The link is gone: what still waits for credit is dropped. */
  drop(): void {
    for (const queued of this.waiting.splice(0)) queued.dropped?.();
  }

  get open(): boolean {
    return this.sender.is_open();
  }
}
