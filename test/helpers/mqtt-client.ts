import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import tls from 'node:tls';

import { deriveModuleKey } from '../../src/runtime/identity/module-keys.js';
import { buildSasToken } from '../../src/runtime/identity/sas.js';
import { workloadSocket } from '../../src/runtime/workload/socket-layout.js';
import { eventually, type TestDaemon } from './daemon.js';

/** The edge device of TestDaemon's config.yaml, and its symmetric key. */
export const DEVICE_ID = 'edge-1';
export const DEVICE_KEY = 'c2VjcmV0a2V5MTIzNDU2Nzg=';
export const IOTHUB_HOSTNAME = 'hub.example.net';
export const API_VERSION = '2021-04-12';

/** The subset of mqtt.js 4 (no typings of its own) these tests use. */
export interface MqttClient {
  connected: boolean;
  stream: import('node:stream').Duplex;
  on(event: 'message', listener: (topic: string, payload: Buffer) => void): this;
  on(event: 'close' | 'connect' | 'offline', listener: () => void): this;
  on(event: 'error', listener: (error: Error & { code?: number }) => void): this;
  once(event: 'close' | 'connect', listener: () => void): this;
  once(event: 'error', listener: (error: Error & { code?: number }) => void): this;
  removeListener(event: string, listener: (...args: never[]) => void): this;
  publish(
    topic: string,
    payload: string | Buffer,
    options: { qos: 0 | 1 | 2; retain?: boolean },
    callback?: (error?: Error) => void,
  ): this;
  subscribe(
    topic: string,
    options: { qos: 0 | 1 },
    callback: (error: Error | null, granted: { topic: string; qos: number }[]) => void,
  ): this;
  end(force?: boolean, options?: object, callback?: () => void): this;
}

interface MqttModule {
  connect(options: Record<string, unknown>): MqttClient;
}

const mqtt = createRequire(import.meta.url)('mqtt') as MqttModule;

/** How a test reaches the daemon's hub over MQTT: address, trust bundle, hostname for SNI. */
export interface HubEndpoint {
  host: string;
  port: number;
  /** config.yaml `hostname`: the server certificate's name, and a valid SAS audience host. */
  hostname: string;
  /** The edge CA's trust bundle (PEM). */
  ca: string;
}

/**
 * The hub's MQTT address from GET /deployment/status, whose edgeHub statusDescription reads
 * `MQTT on 127.0.0.1:PORT, HTTPS on ...` once the listeners are bound.
 */
export async function mqttAddress(daemon: TestDaemon): Promise<{ host: string; port: number }> {
  return eventually(async () => {
    const status = await daemon.json<{
      systemModules?: { edgeHub?: { runtimeStatus?: string; statusDescription?: string } };
    }>('GET', '/deployment/status');
    const match = /MQTT on ([\d.]+):(\d+)/.exec(status.systemModules?.edgeHub?.statusDescription ?? '');
    return match ? { host: match[1]!, port: Number(match[2]) } : undefined;
  }, 'the hub to report its MQTT port');
}

/** GET /trust-bundle on the workload socket of `module` (the module must have been created). */
export function trustBundle(daemon: TestDaemon, module: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        socketPath: workloadSocket(daemon.homedir, module),
        method: 'GET',
        path: '/trust-bundle?api-version=2019-01-30',
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          if (response.statusCode !== 200)
            return reject(new Error(`trust bundle: ${response.statusCode} ${text}`));
          resolve((JSON.parse(text) as { certificate: string }).certificate);
        });
      },
    );
    request.on('error', reject);
    request.end();
  });
}

/** The generation ids the agent gave the modules it created (`<homedir>/agent/identities.json`). */
export function generationIds(daemon: TestDaemon): Record<string, string> {
  try {
    return JSON.parse(readFileSync(path.join(daemon.homedir, 'agent', 'identities.json'), 'utf8')) as Record<
      string,
      string
    >;
  } catch {
    return {};
  }
}

/** Waits until every module has an identity (the agent created it) and returns the hub's endpoint. */
export async function hubEndpoint(
  daemon: TestDaemon,
  modules: string[],
  hostname: string,
): Promise<HubEndpoint> {
  await eventually(
    async () => (modules.every((module) => generationIds(daemon)[module]) ? true : undefined),
    `identities of ${modules.join(', ')}`,
  );
  const address = await mqttAddress(daemon);
  return { ...address, hostname, ca: await trustBundle(daemon, modules[0]!) };
}

export interface TokenOptions {
  /** Unix seconds; an hour from now by default. */
  expiry?: number;
  /** The `sr` audience, unencoded; `{hostname}/devices/{device}/modules/{module}` by default. */
  audience?: string;
  /** The key to sign with; the module's primary key by default. */
  key?: string;
}

/** SAS tokens and CONNECT fields for the modules of one TestDaemon, computed as the workload API would. */
export class ModuleCredentials {
  constructor(
    private readonly daemon: TestDaemon,
    readonly hostname: string,
  ) {}

  key(module: string, keyId: 'primary' | 'secondary' = 'primary'): string {
    const generationId = generationIds(this.daemon)[module];
    if (generationId === undefined) throw new Error(`module ${module} has no identity yet`);
    return deriveModuleKey(DEVICE_KEY, module, keyId, generationId);
  }

  token(module: string, options: TokenOptions = {}): string {
    return buildSasToken({
      audience: options.audience ?? `${this.hostname}/devices/${DEVICE_ID}/modules/${module}`,
      key: options.key ?? this.key(module),
      expiry: options.expiry ?? Math.floor(Date.now() / 1000) + 3600,
    });
  }

  clientId(module: string): string {
    return `${DEVICE_ID}/${module}`;
  }

  username(module: string, params = `api-version=${API_VERSION}`): string {
    return `${this.hostname}/${DEVICE_ID}/${module}/?${params}`;
  }

  /** CONNECT fields of a well-behaved module client. */
  connectFields(module: string): { clientId: string; username: string; password: string } {
    return { clientId: this.clientId(module), username: this.username(module), password: this.token(module) };
  }
}

export interface ConnectOptions {
  clientId: string;
  username?: string;
  password?: string;
  clean?: boolean;
  keepalive?: number;
  will?: { topic: string; payload: Buffer | string; qos: 0 | 1; retain: boolean };
}

/** An mqtt.js client over TLS to the hub, without automatic reconnects. */
export function mqttClient(endpoint: HubEndpoint, options: ConnectOptions): MqttClient {
  return mqtt.connect({
    protocol: 'mqtts',
    host: endpoint.host,
    port: endpoint.port,
    servername: endpoint.hostname,
    ca: endpoint.ca,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 60,
    clean: true,
    ...options,
  });
}

/** Connects and resolves once CONNACK accepted the client; rejects with the refusal (error.code = return code). */
export function connect(endpoint: HubEndpoint, options: ConnectOptions): Promise<MqttClient> {
  const client = mqttClient(endpoint, options);
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      client.end(true);
      reject(error);
    };
    client.once('error', fail);
    client.once('close', () => fail(new Error('closed before CONNACK')));
    client.once('connect', () => {
      client.removeListener('error', fail);
      resolve(client);
    });
  });
}

/** The CONNACK return code the hub answers `options` with (0 accepted), the connection then ended. */
export async function connackCode(endpoint: HubEndpoint, options: ConnectOptions): Promise<number> {
  try {
    const client = await connect(endpoint, options);
    await end(client);
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    throw error;
  }
}

export function end(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}

/** Resolves when the client's connection closes (at once if it already has). */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (client.stream.destroyed) return resolve();
    client.once('close', () => resolve());
  });
}

/** A raw TLS connection to the hub, for bytes no MQTT client would send. */
export function rawTls(endpoint: HubEndpoint): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: endpoint.host,
      port: endpoint.port,
      servername: endpoint.hostname,
      ca: endpoint.ca,
    });
    socket.once('secureConnect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** An MQTT remaining length (variable byte integer). */
export function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

function utf8Field(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** An MQTT 3.1.1 CONNECT packet (clean session, keep-alive 60 s). */
export function connectPacket(fields: { clientId: string; username?: string; password?: string }): Buffer {
  let flags = 0x02;
  if (fields.username !== undefined) flags |= 0x80;
  if (fields.password !== undefined) flags |= 0x40;
  const body = Buffer.concat([
    utf8Field('MQTT'),
    Buffer.from([4, flags, 0, 60]),
    utf8Field(fields.clientId),
    ...(fields.username !== undefined ? [utf8Field(fields.username)] : []),
    ...(fields.password !== undefined ? [utf8Field(fields.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** An MQTT SUBSCRIBE of one topic filter at QoS 1, packet id 1. */
export function subscribePacket(filter: string): Buffer {
  const body = Buffer.concat([Buffer.from([0, 1]), utf8Field(filter), Buffer.from([1])]);
  return Buffer.concat([Buffer.from([0x82]), remainingLength(body.length), body]);
}

/** An MQTT PUBACK for `messageId`. */
export function pubackPacket(messageId: number): Buffer {
  return Buffer.from([0x40, 2, messageId >> 8, messageId & 0xff]);
}

/**
 * Reads the packets a raw session receives and keeps its PUBLISHes (message id and payload) in
 * arrival order; other packets (SUBACK) are skipped.
 */
export class PublishReader {
  readonly publishes: { messageId: number; payload: Buffer }[] = [];
  private buffered = Buffer.alloc(0);

  feed(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (;;) {
      let length = 0;
      let at = 1;
      let byte: number;
      do {
        if (at >= this.buffered.length) return;
        byte = this.buffered[at]!;
        length += (byte & 0x7f) * 128 ** (at - 1);
        at++;
      } while (byte & 0x80);
      if (this.buffered.length < at + length) return;
      const first = this.buffered[0]!;
      const body = this.buffered.subarray(at, at + length);
      this.buffered = this.buffered.subarray(at + length);
      if (first >> 4 !== 3) continue;
      const topicLength = body.readUInt16BE(0);
      const qos = (first >> 1) & 3;
      const messageId = qos > 0 ? body.readUInt16BE(2 + topicLength) : 0;
      this.publishes.push({ messageId, payload: body.subarray(2 + topicLength + (qos > 0 ? 2 : 0)) });
    }
  }
}

/** The fixed header of a QoS 0 PUBLISH announcing `length` more bytes. */
export function publishHeader(length: number): Buffer {
  return Buffer.concat([Buffer.from([0x30]), remainingLength(length)]);
}

/** Whether `command` runs here (e.g. mosquitto_pub from Debian's mosquitto-clients). */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Subscribes and resolves once the hub granted the subscription; rejects when it refused it. */
export function subscribe(client: MqttClient, filter: string, qos: 0 | 1): Promise<void> {
  return new Promise((resolve, reject) =>
    client.subscribe(filter, { qos }, (error, granted) =>
      error || granted[0]?.qos === 0x80 ? reject(error ?? new Error(`${filter}: refused`)) : resolve(),
    ),
  );
}

/** Subscribes `client` to its twin responses. */
export function subscribeTwinResponses(client: MqttClient): Promise<void> {
  return new Promise((resolve, reject) =>
    client.subscribe('$iothub/twin/res/#', { qos: 0 }, (error) => (error ? reject(error) : resolve())),
  );
}

/** Asks for the twin and resolves once it comes back: the connection is alive and served. */
export function twinAnswered(client: MqttClient, requestId: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = (topic: string) => {
      if (!topic.startsWith(`$iothub/twin/res/200/?$rid=${requestId}`)) return;
      client.removeListener('message', listener);
      resolve();
    };
    client.on('message', listener);
    client.publish(`$iothub/twin/GET/?$rid=${requestId}`, ' ', { qos: 0 });
  });
}
