import { edgeHubAudience, upstreamUsername } from '../../src/runtime/hub/upstream/upstream-wire.js';
import { edgeHubModuleKey } from '../../src/runtime/identity/module-keys.js';
import { buildSasToken } from '../../src/runtime/identity/sas.js';
import { closed, connect, end, type HubEndpoint, type MqttClient } from './mqtt-client.js';

/**
 * One identity of a child edge device on its parent's MQTT head, CONNECTed exactly as the child's
 * upstream link does (on behalf of it, with the child's `$edgeHub` token), speaking IoT Hub's twin
 * and method topics. Keeps what it receives so that a test can wait for it.
 */
export class ChildIdentityClient {
  private readonly received: { topic: string; payload: Buffer }[] = [];
  private rid = 0;

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => this.received.push({ topic, payload }));
  }

  /** `identity`: `child` or `child/module`; `childKey`: the child's device key as its parent registered it. */
  static async connect(
    endpoint: HubEndpoint,
    options: { iothub: string; child: string; childKey: string; identity: string },
  ): Promise<ChildIdentityClient> {
    const [deviceId, moduleId] = options.identity.split('/') as [string, string | undefined];
    const password = buildSasToken({
      audience: edgeHubAudience(options.iothub, options.child),
      key: edgeHubModuleKey(options.childKey),
      expiry: Math.floor(Date.now() / 1000) + 600,
    });
    const username = upstreamUsername({
      iothubHostname: options.iothub,
      target: moduleId === undefined ? { deviceId } : { deviceId, moduleId },
      edgeDeviceId: options.child,
      productInfo: 'test-child',
    });
    return new ChildIdentityClient(
      await connect(endpoint, { clientId: options.identity, username, password }),
    );
  }

  subscribe(filter: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.subscribe(filter, { qos: 1 }, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** The first message received since `from` that `accept`s, waiting up to `timeoutMs`. */
  async waitFor(
    accept: (message: { topic: string; payload: Buffer }) => boolean,
    what: string,
    from = 0,
    timeoutMs = 10_000,
  ): Promise<{ topic: string; payload: Buffer }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.slice(from).find(accept);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The first message since `from` on a topic starting with `prefix`. */
  next(prefix: string, from = 0, timeoutMs = 10_000): Promise<{ topic: string; payload: Buffer }> {
    return this.waitFor(
      (message) => message.topic.startsWith(prefix),
      `message on ${prefix}`,
      from,
      timeoutMs,
    );
  }

  /** How many messages it received so far (a mark for `next`). */
  get count(): number {
    return this.received.length;
  }

  /** A twin request: GET (no body) or PATCH of reported properties; resolves to status, version, body. */
  async twin(
    request: 'GET' | 'PATCH',
    body?: unknown,
  ): Promise<{ status: number; version?: number; body: unknown }> {
    const rid = String(++this.rid);
    const mark = this.count;
    const topic =
      request === 'GET'
        ? `$iothub/twin/GET/?$rid=${rid}`
        : `$iothub/twin/PATCH/properties/reported/?$rid=${rid}`;
    this.client.publish(topic, body === undefined ? '' : JSON.stringify(body), { qos: 1 });
    const answer = await this.waitFor(
      (message) =>
        message.topic.startsWith('$iothub/twin/res/') &&
        new URLSearchParams(message.topic.split('?')[1] ?? '').get('$rid') === rid,
      `twin answer to $rid ${rid}`,
      mark,
    );
    const match = /^\$iothub\/twin\/res\/(\d+)\/\?(.*)$/.exec(answer.topic);
    const version = new URLSearchParams(match?.[2] ?? '').get('$version');
    const text = answer.payload.toString('utf8');
    return {
      status: Number(match?.[1]),
      ...(version === null ? {} : { version: Number(version) }),
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
    };
  }

  /**
   * Answers direct methods (after subscribing to them) with what `handle` returns for the method's
   * name and JSON payload, as a device does on `$iothub/methods/res/{status}/?$rid=…`.
   */
  async answerMethods(handle: (name: string, payload: unknown) => { status: number; payload: unknown }) {
    this.client.on('message', (topic, payload) => {
      const match = /^\$iothub\/methods\/POST\/([^/]+)\/\?(.*)$/.exec(topic);
      if (!match) return;
      const rid = new URLSearchParams(match[2]).get('$rid') ?? '';
      const answer = handle(match[1]!, JSON.parse(payload.toString('utf8')) as unknown);
      this.publish(
        `$iothub/methods/res/${answer.status}/?$rid=${encodeURIComponent(rid)}`,
        JSON.stringify(answer.payload),
      );
    });
    await this.subscribe('$iothub/methods/POST/#');
  }

  publish(topic: string, payload: string): void {
    this.client.publish(topic, payload, { qos: 1 });
  }

  /** Resolves when the connection has closed (the parent ended it, or close()). */
  closed(): Promise<void> {
    return closed(this.client);
  }

  close(): Promise<void> {
    return end(this.client);
  }
}
