import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Sender } from 'rhea';

import { OutboundLink } from '../../../../src/runtime/hub/amqp-head/outbound-link.js';

/** A sender whose credit the test sets, recording what went out. */
function fakeSender() {
  const sent: unknown[] = [];
  const state = { credit: 0 };
  const sender = {
    sendable: () => state.credit > 0,
    send: (message: unknown) => {
      state.credit--;
      sent.push(message);
      return { id: sent.length };
    },
    is_open: () => true,
  } as unknown as Sender;
  return { sender, sent, state };
}

test('messages wait for credit, in order, and go out as the client grants it', () => {
  const { sender, sent, state } = fakeSender();
  const link = new OutboundLink(sender);
  const deliveries: unknown[] = [];
  state.credit = 1;
  link.send({ body: 'a' }, (delivery) => deliveries.push(delivery));
  link.send({ body: 'b' }, (delivery) => deliveries.push(delivery));
  link.send({ body: 'c' });
  assert.deepEqual(sent, [{ body: 'a' }]);
  state.credit = 1;
  link.sendable();
  assert.deepEqual(sent, [{ body: 'a' }, { body: 'b' }]);
  state.credit = 5;
  link.sendable();
  assert.deepEqual(sent, [{ body: 'a' }, { body: 'b' }, { body: 'c' }]);
  assert.deepEqual(deliveries, [{ id: 1 }, { id: 2 }]);
});

test('what still waits when the link ends is dropped, and its sender told', () => {
  const { sender, sent } = fakeSender();
  const link = new OutboundLink(sender);
  const dropped: string[] = [];
  link.send({ body: 'a' }, undefined, () => dropped.push('a'));
  link.send({ body: 'b' }, undefined, () => dropped.push('b'));
  link.drop();
  assert.deepEqual(dropped, ['a', 'b']);
  link.sendable();
  assert.deepEqual(sent, []);
});
