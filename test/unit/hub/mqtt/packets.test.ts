import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';

import mqttPacket from 'mqtt-packet';

import {
  publishQos1Packet,
  readPuback,
  readPublish,
  writePuback,
} from '../../../../src/runtime/hub/mqtt-head/packets.js';

/** The packets an MQTT 3.1.1 parser (the one aedes and MQTT.js use) reads from `bytes`. */
function parse(bytes: Buffer): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: mqttPacket.Packet[] = [];
  const errors: Error[] = [];
  parser.on('packet', (packet) => packets.push(packet));
  parser.on('error', (error) => errors.push(error));
  parser.parse(bytes);
  assert.deepEqual(errors, []);
  return packets;
}

test('a QoS 1 PUBLISH reads back as its topic, id and payload, at every length of the length field', () => {
  for (const size of [0, 5, 200, 20_000, 3_000_000]) {
    const payload = Buffer.alloc(size, 7);
    const topic = 'devices/d1/modules/m1/inputs/in1/%24.mid=1&caf%C3%A9=%E2%82%AC';
    const [packet, ...rest] = parse(publishQos1Packet(topic, payload, 0x1234));
    assert.deepEqual(rest, []);
    const publish = packet as mqttPacket.IPublishPacket;
    assert.equal(publish.cmd, 'publish');
    assert.equal(publish.qos, 1);
    assert.equal(publish.retain, false);
    assert.equal(publish.dup, false);
    assert.equal(publish.messageId, 0x1234);
    assert.equal(publish.topic, topic);
    assert.ok(Buffer.from(publish.payload).equals(payload), `payload of ${size} bytes`);
  }
});

test('a topic with characters outside ASCII is counted in UTF-8 bytes', () => {
  const [packet] = parse(publishQos1Packet('inputs/café/€', Buffer.from('x'), 1));
  assert.equal((packet as mqttPacket.IPublishPacket).topic, 'inputs/café/€');
});

test('PUBACKs written in one turn leave the socket in one write', async () => {
  const socket = new PassThrough();
  const writes: Buffer[] = [];
  const write = socket._write.bind(socket);
  const writev = socket._writev?.bind(socket);
  socket._writev = (chunks, callback) => {
    writes.push(Buffer.concat(chunks.map(({ chunk }) => chunk as Buffer)));
    return writev ? writev(chunks, callback) : callback();
  };
  socket._write = (chunk: Buffer, encoding, callback) => {
    writes.push(chunk);
    write(chunk, encoding, callback);
  };
  writePuback(socket, 1);
  writePuback(socket, 0x1234);
  assert.equal(writes.length, 0, 'corked until the turn ends');
  await new Promise((resolve) => process.nextTick(resolve));
  assert.deepEqual(writes, [Buffer.from([0x40, 2, 0, 1, 0x40, 2, 0x12, 0x34])]);
});

test('no PUBACK on a socket that is gone', () => {
  const socket = new PassThrough();
  socket.destroy();
  assert.doesNotThrow(() => writePuback(socket, 7));
});

test('a PUBLISH read past the broker matches what its parser reads, at QoS 0 and 1, with its flags', () => {
  const cases: mqttPacket.IPublishPacket[] = [
    {
      cmd: 'publish',
      qos: 1,
      dup: false,
      retain: false,
      topic: 'devices/d1/messages/events/a=1',
      payload: Buffer.from('hello'),
      messageId: 513,
    },
    {
      cmd: 'publish',
      qos: 0,
      dup: false,
      retain: true,
      topic: 'devices/d1/messages/events/',
      payload: Buffer.alloc(0),
    },
    {
      cmd: 'publish',
      qos: 1,
      dup: true,
      retain: false,
      topic: 'café',
      payload: Buffer.alloc(70_000, 9),
      messageId: 65_535,
    },
  ];
  for (const packet of cases) {
    const bytes = mqttPacket.generate(packet);
    const bodyAt =
      bytes.length -
      2 -
      Buffer.byteLength(packet.topic) -
      (packet.qos ? 2 : 0) -
      (packet.payload as Buffer).length;
    const read = readPublish(bytes, bodyAt);
    const parsed = parse(bytes)[0] as mqttPacket.IPublishPacket;
    assert.deepEqual(
      { ...read, payload: Buffer.from(read!.payload) },
      {
        cmd: parsed.cmd,
        qos: parsed.qos,
        dup: parsed.dup,
        retain: parsed.retain,
        topic: parsed.topic,
        payload: Buffer.from(parsed.payload),
        ...(parsed.qos ? { messageId: parsed.messageId } : {}),
      },
    );
  }
});

test('anything but a well-formed QoS 0 or 1 PUBLISH, or a PUBACK, is left to the broker', () => {
  const qos2 = mqttPacket.generate({
    cmd: 'publish',
    qos: 2,
    dup: false,
    retain: false,
    topic: 't',
    payload: 'x',
    messageId: 1,
  });
  assert.equal(readPublish(qos2, 2), undefined, 'QoS 2');
  assert.equal(
    readPublish(Buffer.from([0x32, 3, 0, 5, 0x61]), 2),
    undefined,
    'a topic longer than the packet',
  );
  assert.equal(readPublish(Buffer.from([0x32, 3, 0, 1, 0x61]), 2), undefined, 'no room for the message id');
  assert.equal(readPublish(Buffer.from([0x40, 2, 0, 1]), 2), undefined, 'a PUBACK');
  assert.equal(readPuback(Buffer.from([0x40, 2, 0x12, 0x34]), 2), 0x1234);
  assert.equal(readPuback(Buffer.from([0x50, 2, 0, 1]), 2), undefined, 'a PUBREC');
  assert.equal(readPuback(Buffer.from([0x41, 2, 0, 1]), 2), undefined, 'reserved flags set');
  assert.equal(readPuback(Buffer.from([0x40, 3, 0, 1, 0]), 2), undefined, 'too long');
});
