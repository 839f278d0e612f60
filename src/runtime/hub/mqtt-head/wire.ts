import type { ClientIdentity } from '../connections.js';
import type { InboundPublish, InboundSubscribe } from '../mqtt/topics.js';
import type { OutboundTopics } from './link.js';

export type ConnectParse =
  { ok: true; deviceId: string; moduleId?: string; authChain?: string } | { ok: false; reason: string };

/** The MQTT wire mapping of IoT Hub (topics, property bags, CONNECT fields) the head relies on. */
export interface Wire extends OutboundTopics {
  connect(clientId: string, username: string | undefined): ConnectParse;
  publish(topic: string, payload: Buffer, identity: ClientIdentity): InboundPublish;
  subscribe(filter: string, identity: ClientIdentity): InboundSubscribe;
}
