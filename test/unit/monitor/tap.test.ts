import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageTap, tapMatches, type TapEvent } from '../../../src/runtime/hub/monitor/tap.js';
import type { HubMessage } from '../../../src/runtime/routing/message.js';

const message = (deviceId: string, moduleId?: string, body = '{}'): HubMessage => ({
  body: Buffer.from(body),
  properties: {},
  systemProperties: { connectionDeviceId: deviceId, ...(moduleId ? { connectionModuleId: moduleId } : {}) },
  source: '/messages',
});

/** The events a watcher holds now, without waiting for more. */
async function drain(iterator: AsyncIterator<TapEvent>, count: number): Promise<TapEvent[]> {
  const events: TapEvent[] = [];
  for (let index = 0; index < count; index++) events.push((await iterator.next()).value as TapEvent);
  return events;
}

test('a filter matches the endpoint, and the sender device and module when given', () => {
  const sent = message('edge-1', 'filter');
  assert.equal(tapMatches({ endpoint: '$upstream' }, '$upstream', sent), true);
  assert.equal(tapMatches({ endpoint: '$upstream' }, 'edge-1/filter/inputs/input1', sent), false);
  assert.equal(tapMatches({ endpoint: '$upstream', moduleId: 'filter' }, '$upstream', sent), true);
  assert.equal(tapMatches({ endpoint: '$upstream', moduleId: 'sensor' }, '$upstream', sent), false);
  assert.equal(tapMatches({ endpoint: '$upstream', deviceId: 'edge-1' }, '$upstream', sent), true);
  assert.equal(tapMatches({ endpoint: '$upstream', deviceId: 'leaf-1' }, '$upstream', sent), false);
  // a device's own telemetry has no module: --module never matches it
  assert.equal(
    tapMatches({ endpoint: '$upstream', moduleId: 'filter' }, '$upstream', message('leaf-1')),
    false,
  );
});

test('the tap reports watching only while a watcher is open', () => {
  const tap = new MessageTap();
  assert.equal(tap.watching, false);
  const watcher = tap.watch({ endpoint: '$upstream' });
  assert.equal(tap.watching, true);
  watcher.close();
  assert.equal(tap.watching, false);
});

test('a watcher yields the matching messages in order, each with its endpoint', async () => {
  const tap = new MessageTap();
  const watcher = tap.watch({ endpoint: '$upstream', moduleId: 'filter' });
  tap.publish('$upstream', message('edge-1', 'filter', 'a'));
  tap.publish('$upstream', message('edge-1', 'sensor', 'skipped'));
  tap.publish('edge-1/filter/inputs/input1', message('edge-1', 'filter', 'skipped'));
  tap.publish('$upstream', message('edge-1', 'filter', 'b'));
  const events = await drain(watcher[Symbol.asyncIterator](), 2);
  assert.deepEqual(
    events.map((event) => (event.kind === 'message' ? `${event.endpoint}:${event.message.body}` : '')),
    ['$upstream:a', '$upstream:b'],
  );
  watcher.close();
});

test('a slow watcher holds up to its limit, drops the rest, and tells how many before the next message', async () => {
  const tap = new MessageTap();
  const watcher = tap.watch({ endpoint: '$upstream' }, { messages: 2, bytes: 1024 });
  for (let index = 0; index < 5; index++) tap.publish('$upstream', message('edge-1', 'm', String(index)));
  const iterator = watcher[Symbol.asyncIterator]();
  const [dropped, first, second] = await drain(iterator, 3);
  assert.deepEqual(dropped, { kind: 'dropped', count: 3 });
  assert.equal(first?.kind === 'message' && first.message.body.toString(), '0');
  assert.equal(second?.kind === 'message' && second.message.body.toString(), '1');
  // room again: the next one is held
  tap.publish('$upstream', message('edge-1', 'm', '5'));
  const [third] = await drain(iterator, 1);
  assert.equal(third?.kind === 'message' && third.message.body.toString(), '5');
  watcher.close();
});

test('the byte limit counts too', async () => {
  const tap = new MessageTap();
  const watcher = tap.watch({ endpoint: '$upstream' }, { messages: 100, bytes: 128 });
  tap.publish('$upstream', message('e', 'm', 'x'.repeat(30)));
  tap.publish('$upstream', message('e', 'm', 'y'.repeat(30)));
  const [dropped] = await drain(watcher[Symbol.asyncIterator](), 1);
  assert.deepEqual(dropped, { kind: 'dropped', count: 1 });
  watcher.close();
});

test('closing a watcher ends its iteration and the tap forgets it', async () => {
  const tap = new MessageTap();
  const watcher = tap.watch({ endpoint: '$upstream' });
  const pending = watcher[Symbol.asyncIterator]().next();
  watcher.close();
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.equal(tap.watching, false);
});
