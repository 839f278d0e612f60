import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CloudToDeviceSender } from '../../../src/runtime/hub/cloud-to-device.js';
import {
  ConnectionRegistry,
  type ClientLink,
  type Subscription,
} from '../../../src/runtime/hub/connections.js';
import { HubRequestError } from '../../../src/runtime/hub/hub-request-error.js';
import type { CloudToDeviceMessage } from '../../../src/runtime/routing/message.js';

/** A connected client whose completions the test gives by hand. */
function device(id: string, subscriptions: Subscription[] = ['c2d'], moduleId?: string) {
  const sent: { message: CloudToDeviceMessage; complete: () => void; drop: () => void }[] = [];
  const link: ClientLink = {
    identity: { id: moduleId ? `${id}/${moduleId}` : id, deviceId: id, moduleId },
    subscriptions: new Set(subscriptions),
    deliverInput: () => Promise.resolve(),
    deliverC2D: (message) =>
      new Promise((resolve, reject) =>
        sent.push({ message, complete: resolve, drop: () => reject(new Error('gone')) }),
      ),
    sendDesiredPatch: () => undefined,
    sendMethodRequest: () => undefined,
    close: () => undefined,
  };
  return { link, sent };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const status = (code: number) => (error: unknown) =>
  error instanceof HubRequestError && error.status === code;

test('a message reaches a subscribed device and resolves once the device completes it', async () => {
  const connections = new ConnectionRegistry();
  const leaf = device('leaf1');
  connections.add(leaf.link);
  const sender = new CloudToDeviceSender(connections);
  const sending = sender.send('leaf1', {
    body: Buffer.from('reboot'),
    properties: { kind: 'command' },
    correlationId: 'c-1',
  });
  await flush();
  assert.equal(leaf.sent.length, 1);
  const { message } = leaf.sent[0]!;
  assert.equal(message.body.toString(), 'reboot');
  assert.deepEqual(message.properties, { kind: 'command' });
  assert.equal(message.systemProperties.to, '/devices/leaf1/messages/deviceBound');
  assert.equal(message.systemProperties.correlationId, 'c-1');
  let settled = false;
  void sending.then(() => (settled = true));
  await flush();
  assert.equal(settled, false, 'not before the device completes it');
  leaf.sent[0]!.complete();
  assert.deepEqual(await sending, { messageId: message.systemProperties.messageId });
});

test('404 for a device not connected, not subscribed, or a module; nothing is kept for later', async () => {
  const connections = new ConnectionRegistry();
  connections.add(device('quiet', ['methods']).link);
  connections.add(device('edge', ['c2d'], 'm1').link);
  const sender = new CloudToDeviceSender(connections);
  for (const target of ['absent', 'quiet', 'edge/m1'])
    await assert.rejects(sender.send(target, { body: Buffer.from('x') }), status(404), target);
});

test('a device that disconnects is 404, one that never completes is 504', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const connections = new ConnectionRegistry();
  const leaf = device('leaf1');
  connections.add(leaf.link);
  const sender = new CloudToDeviceSender(connections);
  const dropped = sender.send('leaf1', { body: Buffer.from('a') });
  leaf.sent[0]!.drop();
  await assert.rejects(dropped, /disconnected before it completed/);
  const slow = sender.send('leaf1', { body: Buffer.from('b'), ackTimeoutInSeconds: 5 });
  t.mock.timers.tick(5000);
  await assert.rejects(slow, (error: unknown) => status(504)(error) && /within 5 s/.test(String(error)));
});

test('bad requests are 400 naming the problem', async () => {
  const connections = new ConnectionRegistry();
  connections.add(device('leaf1').link);
  const sender = new CloudToDeviceSender(connections);
  await assert.rejects(sender.send('leaf1', { body: Buffer.alloc(64 * 1024 + 1) }), /at most 65536/);
  await assert.rejects(sender.send('leaf1', { body: Buffer.from('x'), ackTimeoutInSeconds: 0 }), status(400));
  await assert.rejects(
    sender.send('leaf1', { body: Buffer.from('x'), properties: { a: 1 as unknown as string } }),
    /properties\.a: /,
  );
});
