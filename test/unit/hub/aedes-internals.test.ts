/**
 * The MQTT head reaches into aedes past its typed API: it replaces `broker.publish` to skip the
 * fan-out of a client's publishes (aedes calls it as `publish(packet, client, done)`, its own
 * publishes as `publish(packet, done)`), and wraps the connection's packet parser
 * (`client._parser.parse`, and its `packet` events, PUBACKs included) to guard frame sizes. These
 * tests drive a real broker over a socket the way the head does, so that an aedes release that
 * moves any of it fails here instead of leaving the hub unguarded at run time.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { Aedes, type Client } from 'aedes';

interface Parser {
  parse(buffer: Buffer): unknown;
  on(event: 'packet', listener: (packet: { cmd: string }) => void): void;
  listeners(event: 'packet'): unknown[];
}

type PublishCall = { packet: { topic?: string }; client: unknown; done: unknown; arity: number };

/** An MQTT 3.1.1 packet: the fixed header byte, the remaining length, then `body`. */
function frame(header: number, body: Buffer): Buffer {
  assert.ok(body.length < 128, 'one-byte remaining length');
  return Buffer.concat([Buffer.from([header, body.length]), body]);
}

const text = (value: string) => {
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
};

const CONNECT = frame(
  0x10,
  Buffer.concat([text('MQTT'), Buffer.from([4, 0x02, 0, 60]), text('probe-device')]),
);
const PUBLISH_QOS1 = frame(
  0x32,
  Buffer.concat([text('devices/probe-device/messages/events/'), Buffer.from([0, 1]), Buffer.from('hi')]),
);

let broker: Aedes;
let server: net.Server;
let calls: PublishCall[];
let handled: Promise<{ client: Client & { _parser?: Parser }; parseCalls: () => number; cmds: string[] }>;

before(async () => {
  broker = await Aedes.createBroker({ authenticate: (_client, _user, _password, done) => done(null, true) });
  calls = [];
  // the head's replacement: bound to the broker, set as an own property
  const publish = broker.publish.bind(broker) as (...args: unknown[]) => void;
  (broker as { publish: unknown }).publish = (...args: unknown[]) => {
    const [packet, client, done] = args as [PublishCall['packet'], unknown, unknown];
    calls.push({ packet, client, done, arity: args.length });
    return publish(...args);
  };
  server = net.createServer();
  handled = new Promise((resolve) => {
    server.once('connection', (socket) => {
      const client = broker.handle(socket) as Client & { _parser?: Parser };
      const parser = client._parser;
      assert.equal(typeof parser?.parse, 'function', 'client._parser.parse');
      assert.equal(typeof parser?.on, 'function', 'client._parser.on');
      // the head wraps parse in place: aedes must look it up on every chunk
      let parsed = 0;
      const parse = parser!.parse.bind(parser);
      parser!.parse = (buffer: Buffer) => {
        parsed += 1;
        return parse(buffer);
      };
      const cmds: string[] = [];
      parser!.on('packet', (packet) => cmds.push(packet.cmd));
      resolve({ client, parseCalls: () => parsed, cmds });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});

after(async () => {
  await new Promise<void>((resolve) => broker.close(() => resolve()));
  server.close();
});

/** The bytes a socket receives, and a way to wait for some. */
function receiver(socket: net.Socket) {
  let received = Buffer.alloc(0);
  const waiters: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    async until(predicate: (bytes: Buffer) => boolean, what: string): Promise<Buffer> {
      const deadline = Date.now() + 5_000;
      while (!predicate(received)) {
        if (Date.now() > deadline)
          throw new Error(`no ${what} within 5 s (received ${received.toString('hex')})`);
        await Promise.race([
          new Promise<void>((resolve) => waiters.push(resolve)),
          new Promise((resolve) => setTimeout(resolve, 50)),
        ]);
      }
      return received;
    },
  };
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('aedes internals the MQTT head relies on are where it expects them', async () => {
  assert.equal(typeof Aedes.prototype.publish, 'function', 'Aedes.prototype.publish');
  const { port } = server.address() as net.AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  const bytes = receiver(socket);
  await once(socket, 'connect');
  const { client, parseCalls, cmds } = await handled;

  socket.write(CONNECT);
  await bytes.until((data) => data.subarray(0, 4).equals(Buffer.from([0x20, 2, 0, 0])), 'CONNACK');
  assert.ok(parseCalls() > 0, 'aedes reads the connection through client._parser.parse');
  assert.ok(cmds.includes('connect'), `packet events: ${cmds.join(', ')}`);
  // the head takes telemetry in front of the broker's packet listener (its own, plus the one above),
  // and refreshes the connection's keep-alive timer as the broker does for each packet it handles
  assert.equal(client._parser!.listeners('packet').length, 2, "the broker's packet listener");
  const keepalive = client as Client & {
    _keepaliveInterval?: number;
    _keepaliveTimer?: { refresh?: unknown };
  };
  assert.ok((keepalive._keepaliveInterval ?? 0) > 0, 'client._keepaliveInterval');
  assert.equal(typeof keepalive._keepaliveTimer?.refresh, 'function', 'client._keepaliveTimer.refresh');
  await eventually(() => client.connected, 'client.connected (with clientReady)');

  // a client's publish reaches broker.publish as (packet, client, done)
  socket.write(PUBLISH_QOS1);
  await eventually(() => calls.some((call) => call.client === client), "the client's publish");
  const call = calls.find((entry) => entry.client === client)!;
  assert.equal(call.packet.topic, 'devices/probe-device/messages/events/');
  assert.equal(typeof call.done, 'function', 'done is the third argument');
  // the broker's own publishes ($SYS) come as (packet, done)
  const own = calls.filter((entry) => entry.client !== client);
  assert.ok(own.length > 0, 'the broker published its $SYS birth through broker.publish');
  for (const entry of own)
    assert.equal(typeof entry.client, 'function', `$SYS publish ${entry.packet.topic}`);

  // a PUBACK for what the broker sent shows up as a `puback` packet event
  client.publish(
    { cmd: 'publish', topic: 'to/device', payload: Buffer.from('x'), qos: 1, retain: false, dup: false },
    () => {},
  );
  const withPublish = await bytes.until(
    (data) => data.includes(Buffer.from('to/device')),
    'a publish to the device',
  );
  const start = withPublish.indexOf(Buffer.from('to/device')) + 'to/device'.length;
  socket.write(Buffer.from([0x40, 2, withPublish[start]!, withPublish[start + 1]!]));
  await eventually(() => cmds.includes('puback'), 'a puback packet event');

  // an error emitted on the client is the broker's path to close the connection
  const closed = once(socket, 'close');
  client.emit('error', new Error('probe: frame too large'));
  await closed;
});
