import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';

import { EventWatch, JsonLines, moduleEventOf } from '../../src/runtime/modules/docker/event-watch.js';
import type { ModuleEvent } from '../../src/runtime/modules/types.js';

test('engine events become module events', () => {
  const event = (Action: string) => ({ Type: 'container', Action, Actor: { Attributes: { name: 'mod' } } });
  assert.deepEqual(moduleEventOf(event('die')), { name: 'mod', kind: 'exited' });
  assert.deepEqual(moduleEventOf(event('start')), { name: 'mod', kind: 'started' });
  assert.deepEqual(moduleEventOf(event('health_status: unhealthy')), { name: 'mod', kind: 'health' });
  assert.equal(moduleEventOf(event('create')), undefined);
  assert.equal(
    moduleEventOf({ Type: 'image', Action: 'die', Actor: { Attributes: { name: 'x' } } }),
    undefined,
  );
});

test('JSON lines split across chunks', () => {
  const lines = new JsonLines();
  assert.deepEqual(lines.push('{"a":1}\n{"b"'), [{ a: 1 }]);
  assert.deepEqual(lines.push(':2}\nnot json\n'), [{ b: 2 }]);
});

const waitFor = async (check: () => boolean) => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 1));
};

test('a broken event stream is reopened from the last event seen, without throwing', async () => {
  const streams: PassThrough[] = [];
  const sinces: (number | undefined)[] = [];
  let failures = 1;
  const emitted: ModuleEvent[] = [];
  const warnings: string[] = [];
  const watch = new EventWatch(
    {
      open: async (since) => {
        sinces.push(since);
        // the second attempt finds the engine down
        if (streams.length === 1 && failures-- > 0)
          throw new Error('The container engine at unix:///x is not running');
        const stream = new PassThrough();
        streams.push(stream);
        return stream;
      },
    },
    {
      emit: (event) => emitted.push(event),
      warn: (message) => warnings.push(message),
      minBackoffMs: 1,
      maxBackoffMs: 2,
    },
  );
  watch.start();
  await waitFor(() => streams.length === 1);
  streams[0].write(
    JSON.stringify({ Type: 'container', Action: 'die', time: 100, Actor: { Attributes: { name: 'a' } } }) +
      '\n',
  );
  await waitFor(() => emitted.length === 1);
  streams[0].destroy(new Error('socket hang up'));
  await waitFor(() => streams.length === 2);
  streams[1].write(
    JSON.stringify({ Type: 'container', Action: 'start', time: 101, Actor: { Attributes: { name: 'b' } } }) +
      '\n',
  );
  await waitFor(() => emitted.length === 2);
  watch.stop();
  assert.deepEqual(emitted, [
    { name: 'a', kind: 'exited' },
    { name: 'b', kind: 'started' },
  ]);
  assert.deepEqual(sinces, [undefined, 100, 100]);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /socket hang up/);
  assert.match(warnings[1], /not running/);
  assert.ok(streams[1].destroyed, 'stop closes the open stream');
});
