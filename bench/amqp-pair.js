// The AMQP side of bench/hub-throughput.js: a sender and a receiver module connected to the hub's
// AMQP head with rhea, the AMQP library the Azure IoT SDK's Amqp transport is built on, the way
// that transport talks to IoT Hub: SASL ANONYMOUS, a put-token to `$cbs` with the module's SAS
// token, telemetry on `/devices/{d}/modules/{m}/messages/events` (output name in the
// `iothub-outputname` application property), inputs received on the same address of the receiver.
// Both ends look like the mqtt.js clients the bench drives: publish(topic, payload) and
// on('message', (topic, payload)).
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

import { AmqpTestClient } from '../dist/test/helpers/amqp-client.js';

const require = createRequire(import.meta.url);
const rhea = require('rhea');

/** One module's AMQP connection, authenticated with its SAS token (the MQTT options' password). */
async function connectModule({ port, caFile }, module, options) {
  const client = await AmqpTestClient.connect(port, caFile);
  const audience = decodeURIComponent(/sr=([^&]+)/.exec(options.password)[1]);
  const status = await client.putToken(audience, options.password);
  if (status !== 200) throw new Error(`${module}: put-token answered ${status}`);
  return client.connection;
}

/** The module an MQTT client id `{device}/{module}` names. */
const moduleOf = (options) => options.clientId.split('/')[1];

/** A connected publisher (the sender module, output out1) and subscriber (the receiver module's inputs). */
export async function connectAmqpPair(hub) {
  const address = (options) => `/devices/${hub.deviceId}/modules/${moduleOf(options)}/messages/events`;
  const senderConnection = await connectModule(hub, moduleOf(hub.sender), hub.sender);
  const receiverConnection = await connectModule(hub, moduleOf(hub.receiver), hub.receiver);

  const link = senderConnection.open_sender({ target: { address: address(hub.sender) } });
  await new Promise((resolve) => link.once('sendable', resolve));
  const waiting = [];
  const flush = () => {
    while (waiting.length > 0 && link.sendable()) link.send(waiting.shift());
  };
  link.on('sendable', flush);
  const publisher = {
    publish(_topic, payload) {
      waiting.push({
        body: rhea.message.data_section(payload),
        application_properties: { 'iothub-outputname': 'out1' },
      });
      flush();
    },
    end: () => senderConnection.close(),
  };

  const subscriber = new EventEmitter();
  subscriber.end = () => receiverConnection.close();
  const inputs = receiverConnection.open_receiver({
    source: { address: address(hub.receiver) },
    credit_window: 64,
    autoaccept: true,
  });
  inputs.on('message', (context) => {
    const body = context.message.body;
    subscriber.emit('message', 'in1', Buffer.isBuffer(body) ? body : Buffer.from(body.content ?? body));
  });
  await new Promise((resolve) => inputs.once('receiver_open', resolve));
  const socket = senderConnection.socket;
  return {
    publisher,
    subscriber,
    tls: `${socket.getProtocol()} ${socket.getCipher().name}`,
  };
}
