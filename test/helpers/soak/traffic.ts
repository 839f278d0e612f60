import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';

import { DEVICE_ID, subscribe, type MqttClient } from '../mqtt-client.js';
import { SequenceTracker } from './sequence-tracker.js';
import {
  INPUT,
  OUTPUT,
  RECEIVER,
  SENDER,
  kindOf,
  reachesReceiver,
  type MessageKind,
} from './soak-deployment.js';

export const PAYLOAD_BYTES = 256;
/** Written into every payload after the sequence number, so that a stray publish is never counted. */
const MARK = 0x534f414b;
/** How often the publishing timer wakes; each wake publishes what the rate says is due by then. */
const TICK_MS = 5;

const INPUT_TOPIC = `devices/${DEVICE_ID}/modules/${RECEIVER}/inputs/${INPUT}/`;
const outputTopic = (kind: MessageKind) =>
  `devices/${DEVICE_ID}/modules/${SENDER}/messages/events/%24.on=${OUTPUT}&kind=${kind}/`;
const TOPICS: Record<MessageKind, string> = {
  reading: outputTopic('reading'),
  alert: outputTopic('alert'),
  debug: outputTopic('debug'),
};

/** Calls a direct method on the receiver (through the management API); resolves with its answer. */
export type MethodCaller = (
  methodName: string,
  payload: unknown,
) => Promise<{ status: number; payload: unknown }>;

export interface TrafficOptions {
  /** Telemetry messages a second, QoS 1, from sender to its output. */
  rate: number;
  /** A reported-properties patch from the sender this often. */
  twinEveryMs: number;
  /** A direct method call to the receiver this often. */
  methodEveryMs: number;
}

/**
 * The load of a soak, from two MQTT clients connected as the modules `sender` and `receiver`:
 * telemetry at a fixed rate whatever comes back (numbered, so that the receiver's side sees each
 * loss and duplicate), reported patches from the sender, direct methods the receiver answers.
 */
export class Traffic {
  /** Telemetry messages published, and acknowledged by the hub (PUBACK). */
  sent = 0;
  acknowledged = 0;
  publishErrors = 0;
  /** The most messages published and not yet acknowledged by the hub at any time. */
  maxUnacknowledged = 0;
  readonly received = new SequenceTracker();
  /** Messages on the receiver's input that are not this sender's (wrong size or mark). */
  strangers = 0;
  readonly twin = { sent: 0, accepted: 0, failed: 0 };
  readonly methods = { calls: 0, ok: 0, failed: 0, lastFailure: '' };
  /** Connections that closed while the soak ran, with when (ms since start). */
  readonly disconnects: string[] = [];
  /** The longest publish-to-receipt time since the last call of takeMaxLatencyMs(). */
  private maxLatencyMs = 0;
  private readonly twinPending = new Set<string>();
  private methodsPending = 0;
  private timers: NodeJS.Timeout[] = [];
  private startedAt = 0;
  private stopped = false;
  /** expectedAtReceiver, counted once for the number of messages sent so far. */
  private expected = { upTo: 0, count: 0 };

  constructor(
    private readonly sender: MqttClient,
    private readonly receiver: MqttClient,
    private readonly callMethod: MethodCaller,
    private readonly options: TrafficOptions,
  ) {}

  /** Subscribes both clients and starts listening; nothing is sent yet. */
  async prepare(): Promise<void> {
    this.receiver.on('message', (topic, payload) => this.onReceiverMessage(topic, payload));
    this.sender.on('message', (topic) => this.onSenderMessage(topic));
    for (const [name, client] of [
      [SENDER, this.sender],
      [RECEIVER, this.receiver],
    ] as const) {
      client.on('close', () => {
        if (!this.stopped)
          this.disconnects.push(`${name} at ${Math.round(performance.now() - this.startedAt)} ms`);
      });
    }
    await subscribe(this.receiver, `devices/${DEVICE_ID}/modules/${RECEIVER}/inputs/#`, 1);
    await subscribe(this.receiver, '$iothub/methods/POST/#', 0);
    await subscribe(this.sender, '$iothub/twin/res/#', 0);
  }

  start(): void {
    this.startedAt = performance.now();
    this.timers.push(setInterval(() => this.publishDue(), TICK_MS));
    this.timers.push(setInterval(() => this.patchTwin(), this.options.twinEveryMs));
    this.timers.push(setInterval(() => this.invokeMethod(), this.options.methodEveryMs));
  }

  /** Stops sending; what is in flight may still arrive (see drain). */
  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** After stop(): resolves once everything sent was answered, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.settled()) await new Promise((resolve) => setTimeout(resolve, 100));
  }

  /** The connections may close now without counting as disconnects. */
  finish(): void {
    this.stopped = true;
  }

  /** Telemetry messages the routes send to the receiver, of those published. */
  get expectedAtReceiver(): number {
    if (this.expected.upTo !== this.sent) {
      let count = 0;
      for (let sequence = 0; sequence < this.sent; sequence++) if (reachesReceiver(sequence)) count++;
      this.expected = { upTo: this.sent, count };
    }
    return this.expected.count;
  }

  get lost(): number {
    return this.received.missing(this.sent, reachesReceiver);
  }

  get firstLost(): number[] {
    return this.received.firstMissing(this.sent, reachesReceiver);
  }

  get twinUnanswered(): number {
    return this.twinPending.size;
  }

  get elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** The longest publish-to-receipt time since the previous call, and starts a new window. */
  takeMaxLatencyMs(): number {
    const value = this.maxLatencyMs;
    this.maxLatencyMs = 0;
    return value;
  }

  private settled(): boolean {
    return (
      this.acknowledged + this.publishErrors === this.sent &&
      this.received.unique >= this.expectedAtReceiver &&
      this.twinPending.size === 0 &&
      this.methodsPending === 0
    );
  }

  private publishDue(): void {
    const due = Math.floor(((performance.now() - this.startedAt) * this.options.rate) / 1000);
    while (this.sent < due) this.publish(this.sent++);
    this.maxUnacknowledged = Math.max(this.maxUnacknowledged, this.sent - this.acknowledged);
  }

  private publish(sequence: number): void {
    const payload = Buffer.allocUnsafe(PAYLOAD_BYTES).fill(0x61, 16);
    payload.writeUInt32LE(sequence, 0);
    payload.writeUInt32LE(MARK, 4);
    payload.writeDoubleLE(performance.now(), 8);
    this.sender.publish(TOPICS[kindOf(sequence)], payload, { qos: 1 }, (error) => {
      if (error) this.publishErrors++;
      else this.acknowledged++;
    });
  }

  private onReceiverMessage(topic: string, payload: Buffer): void {
    if (topic.startsWith(INPUT_TOPIC)) {
      if (payload.length !== PAYLOAD_BYTES || payload.readUInt32LE(4) !== MARK) {
        this.strangers++;
        return;
      }
      this.received.record(payload.readUInt32LE(0));
      this.maxLatencyMs = Math.max(this.maxLatencyMs, performance.now() - payload.readDoubleLE(8));
      return;
    }
    const method = /^\$iothub\/methods\/POST\/([^/]+)\/\?\$rid=(.+)$/.exec(topic);
    if (method) this.receiver.publish(`$iothub/methods/res/200/?$rid=${method[2]}`, payload, { qos: 0 });
  }

  private onSenderMessage(topic: string): void {
    const response = /^\$iothub\/twin\/res\/(\d+)\/\?\$rid=([^&]+)/.exec(topic);
    if (!response || !this.twinPending.delete(response[2]!)) return;
    if (response[1] === '204') this.twin.accepted++;
    else this.twin.failed++;
  }

  private patchTwin(): void {
    const requestId = `soak-${this.twin.sent++}`;
    this.twinPending.add(requestId);
    const patch = { soak: { patches: this.twin.sent, sent: this.sent } };
    this.sender.publish(`$iothub/twin/PATCH/properties/reported/?$rid=${requestId}`, JSON.stringify(patch), {
      qos: 0,
    });
  }

  private invokeMethod(): void {
    const call = ++this.methods.calls;
    this.methodsPending++;
    this.callMethod('ping', { call })
      .then(
        (answer) => {
          const echoed = (answer.payload as { call?: unknown } | null)?.call;
          if (answer.status === 200 && echoed === call) this.methods.ok++;
          else this.methodFailed(`call ${call}: ${JSON.stringify(answer)}`);
        },
        (error: Error) => this.methodFailed(`call ${call}: ${error.message}`),
      )
      .finally(() => this.methodsPending--);
  }

  private methodFailed(reason: string): void {
    this.methods.failed++;
    this.methods.lastFailure = reason;
  }
}
