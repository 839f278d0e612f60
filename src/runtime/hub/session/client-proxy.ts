import type { CloudToDeviceMessage, HubMessage } from '../../routing/message.js';

/**
 * What the hub core sends to one connected client, whatever its protocol (edgeHub's
 * IDeviceProxy). A protocol head implements it for each connection; the hub never sees the wire.
 */
export interface ClientProxy {
  /** Resolves when the client has acknowledged the input; rejects when the connection is gone. */
  deliverInput(inputName: string, message: HubMessage): Promise<void>;
  /** Resolves once the device has completed (acknowledged) the message. */
  deliverC2D(message: CloudToDeviceMessage): Promise<void>;
  sendDesiredPatch(patch: Record<string, unknown>, version: number): void;
  sendMethodRequest(method: string, requestId: string, payload: Buffer): void;
  /**
   * Ends the connection. `expired`: its credentials ran out, so nothing may be sent on their
   * authority any more (an MQTT will is dropped).
   */
  close(reason: CloseReason): void;
}

export type CloseReason = 'replaced' | 'removed' | 'expired' | 'hub-closing';
