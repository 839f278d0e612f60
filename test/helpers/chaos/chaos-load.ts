import { Buffer } from 'node:buffer';

import type { TestDaemon } from '../daemon.js';
import {
  DEVICE_ID,
  ModuleCredentials,
  connect,
  hubEndpoint,
  subscribe,
  type MqttClient,
} from '../mqtt-client.js';
import { SequenceTracker } from '../soak/sequence-tracker.js';

export const SENDER = 'sender';
export const RECEIVER = 'receiver';
/** The route the load needs: the sender's output `out1` to the receiver's input `in1`. */
export const CHAOS_ROUTE = `FROM /messages/modules/${SENDER}/outputs/out1 INTO BrokeredEndpoint("/modules/${RECEIVER}/inputs/in1")`;

const PAYLOAD_BYTES = 128;
const MARK = 0x43484153;
const OUTPUT_TOPIC = `devices/${DEVICE_ID}/modules/${SENDER}/messages/events/%24.on=out1/`;
const INPUT_TOPIC = `devices/${DEVICE_ID}/modules/${RECEIVER}/inputs/in1/`;
const TICK_MS = 10;
const TWIN_EVERY_MS = 100;
const RECONNECT_MS = 200;

/** What a chaos run counts; `lost` must be 0 whatever happened to the daemon. */
export interface ChaosFigures {
  published: number;
  acknowledged: number;
  /** Publishes sent again on a new connection because the old one ended before their PUBACK. */
  republished: number;
  received: number;
  /** Acknowledged by the hub and never received: the number that must be 0. */
  lost: number;
  firstLost: number[];
  duplicates: number;
  strangers: number;
  twin: { patches: number; acknowledged: number; refused: number; lastAcknowledged: number };
  reconnects: number;
}

/**
 * Steady load from two MQTT clients connected as the modules `sender` and `receiver`: numbered
 * QoS 1 telemetry on the sender's output (routed to the receiver's input) and a reported-properties
 * patch every 100 ms. The daemon may die, restart on another port, or refuse at any moment: each
 * client reconnects on its own (the receiver keeps its session), and what the hub had not
 * acknowledged is published again, so that only a message the hub acknowledged and then lost
 * counts as lost.
 */
export class ChaosLoad {
  private sender: MqttClient | undefined;
  private receiver: MqttClient | undefined;
  private readonly unacknowledged = new Set<number>();
  private readonly acknowledged = new SequenceTracker();
  private readonly received = new SequenceTracker();
  private readonly twinPending = new Map<string, number>();
  private readonly figures = { published: 0, republished: 0, strangers: 0, reconnects: 0 };
  private readonly twin = { patches: 0, acknowledged: 0, refused: 0, lastAcknowledged: -1 };
  private next = 0;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(
    private readonly daemon: TestDaemon,
    private readonly hostname: string,
    private readonly rate: number,
  ) {}

  /** Connects both clients, then publishes at the rate until stop(). */
  async start(): Promise<void> {
    await Promise.all([this.keepConnected('sender'), this.keepConnected('receiver')]);
    const perTick = (this.rate * TICK_MS) / 1000;
    let due = 0;
    this.timers.push(
      setInterval(() => {
        due += perTick;
        while (due >= 1 && this.sender?.connected) {
          due--;
          this.publish(this.next++);
        }
        if (!this.sender?.connected) due = 0;
      }, TICK_MS),
      setInterval(() => this.patchTwin(), TWIN_EVERY_MS),
    );
  }

  /** Stops sending new messages; reconnects and republishing go on until close(). */
  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** Resolves once every acknowledged message was received and nothing waits for a PUBACK, or at the deadline. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (this.unacknowledged.size > 0 || this.missing().length > 0))
      await new Promise((resolve) => setTimeout(resolve, 100));
  }

  /** Resolves once both clients are connected (after a restart of the daemon, say). */
  async connected(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.sender?.connected && this.receiver?.connected)) {
      if (Date.now() > deadline) throw new Error('the load did not reconnect');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** What the load published, what the hub acknowledged, and what the receiver got. */
  report(): ChaosFigures {
    const missing = this.missing();
    return {
      published: this.figures.published,
      acknowledged: this.acknowledged.unique,
      republished: this.figures.republished,
      received: this.received.unique,
      lost: missing.length,
      firstLost: missing.slice(0, 10),
      duplicates: this.received.duplicates,
      strangers: this.figures.strangers + this.received.foreign,
      twin: { ...this.twin },
      reconnects: this.figures.reconnects,
    };
  }

  /** The reported property the last acknowledged patch set, read back from the hub. */
  async reportedPatch(): Promise<number | undefined> {
    const client = this.sender;
    if (!client?.connected) throw new Error('the sender is not connected');
    return new Promise((resolve, reject) => {
      const requestId = `read-${Date.now()}`;
      const timer = setTimeout(() => reject(new Error('no twin came back')), 10_000);
      const listener = (topic: string, payload: Buffer) => {
        if (!topic.startsWith(`$iothub/twin/res/200/?$rid=${requestId}`)) return;
        clearTimeout(timer);
        client.removeListener('message', listener);
        const twin = JSON.parse(payload.toString('utf8')) as { reported?: { chaos?: { patch?: number } } };
        resolve(twin.reported?.chaos?.patch);
      };
      client.on('message', listener);
      client.publish(`$iothub/twin/GET/?$rid=${requestId}`, ' ', { qos: 0 });
    });
  }

  close(): void {
    this.stop();
    this.closed = true;
    this.sender?.end(true);
    this.receiver?.end(true);
  }

  private missing(): number[] {
    const missing: number[] = [];
    for (let sequence = 0; sequence < this.next; sequence++)
      if (this.acknowledged.has(sequence) && !this.received.has(sequence)) missing.push(sequence);
    return missing;
  }

  private publish(sequence: number): void {
    const payload = Buffer.alloc(PAYLOAD_BYTES, 0x63);
    payload.writeUInt32LE(sequence, 0);
    payload.writeUInt32LE(MARK, 4);
    if (!this.unacknowledged.has(sequence)) this.figures.published++;
    this.unacknowledged.add(sequence);
    this.sender!.publish(OUTPUT_TOPIC, payload, { qos: 1 }, (error) => {
      if (error) return; // the connection ended first: published again on the next one
      if (this.unacknowledged.delete(sequence)) this.acknowledged.record(sequence);
    });
  }

  private patchTwin(): void {
    if (!this.sender?.connected) return;
    const patch = this.twin.patches++;
    const requestId = `chaos-${patch}`;
    this.twinPending.set(requestId, patch);
    this.sender.publish(
      `$iothub/twin/PATCH/properties/reported/?$rid=${requestId}`,
      JSON.stringify({ chaos: { patch } }),
      { qos: 0 },
    );
  }

  private onSenderMessage(topic: string): void {
    const response = /^\$iothub\/twin\/res\/(\d+)\/\?\$rid=([^&]+)/.exec(topic);
    const patch = response && this.twinPending.get(response[2]!);
    if (patch === undefined || patch === null) return;
    this.twinPending.delete(response![2]!);
    if (response![1] === '204') {
      this.twin.acknowledged++;
      this.twin.lastAcknowledged = Math.max(this.twin.lastAcknowledged, patch);
    } else {
      this.twin.refused++;
    }
  }

  private onReceiverMessage(topic: string, payload: Buffer): void {
    if (!topic.startsWith(INPUT_TOPIC)) return;
    if (payload.length !== PAYLOAD_BYTES || payload.readUInt32LE(4) !== MARK) {
      this.figures.strangers++;
      return;
    }
    this.received.record(payload.readUInt32LE(0));
  }

  /** Connects the client, and connects it again whenever it goes (until close()). */
  private async keepConnected(role: 'sender' | 'receiver'): Promise<void> {
    for (;;) {
      if (this.closed) return;
      try {
        const client = await this.open(role);
        client.on('close', () => {
          if (this.closed) return;
          this.figures.reconnects++;
          setTimeout(() => void this.keepConnected(role), RECONNECT_MS);
        });
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
      }
    }
  }

  private async open(role: 'sender' | 'receiver'): Promise<MqttClient> {
    const module = role === 'sender' ? SENDER : RECEIVER;
    // the hub's port may change with every start of the daemon: ask again each time
    const endpoint = await hubEndpoint(this.daemon, [module], this.hostname);
    const credentials = new ModuleCredentials(this.daemon, this.hostname);
    const client = await connect(endpoint, {
      ...credentials.connectFields(module),
      clean: role === 'sender',
      keepalive: 5,
    });
    if (role === 'receiver') {
      client.on('message', (topic, payload) => this.onReceiverMessage(topic, payload));
      await subscribe(client, `devices/${DEVICE_ID}/modules/${RECEIVER}/inputs/#`, 1);
      this.receiver = client;
      return client;
    }
    client.on('message', (topic) => this.onSenderMessage(topic));
    await subscribe(client, '$iothub/twin/res/#', 0);
    this.sender = client;
    // what the previous connection had not seen acknowledged goes again, in order
    for (const sequence of [...this.unacknowledged].sort((a, b) => a - b)) {
      this.figures.republished++;
      this.publish(sequence);
    }
    return client;
  }
}
