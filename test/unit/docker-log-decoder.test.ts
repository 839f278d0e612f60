import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DockerLogDecoder, lastLines, splitTimestamp } from '../../src/runtime/modules/docker/log-decoder.js';

const frame = (stream: number, text: string): Buffer => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

test('timestamps are parsed and stripped', () => {
  assert.deepEqual(splitTimestamp('2024-05-06T07:08:09.123456789Z hello world'), {
    time: new Date('2024-05-06T07:08:09.123Z'),
    text: 'hello world',
  });
  assert.deepEqual(splitTimestamp('no timestamp'), { text: 'no timestamp' });
});

test('multiplexed frames split across chunks become lines on their streams', () => {
  const decoder = new DockerLogDecoder(true);
  const bytes = Buffer.concat([
    frame(1, '2024-01-01T00:00:01.000000000Z out one\n'),
    frame(2, '2024-01-01T00:00:02.000000000Z err one\n'),
  ]);
  const first = decoder.push(bytes.subarray(0, 11));
  const rest = decoder.push(bytes.subarray(11));
  assert.deepEqual(
    [...first, ...rest],
    [
      { time: new Date('2024-01-01T00:00:01Z'), stream: 'stdout', text: 'out one' },
      { time: new Date('2024-01-01T00:00:02Z'), stream: 'stderr', text: 'err one' },
    ],
  );
});

test('a long message split in partial frames keeps its first timestamp', () => {
  const decoder = new DockerLogDecoder(true);
  const lines = decoder.push(
    Buffer.concat([
      frame(1, '2024-01-01T00:00:01Z first half'),
      frame(1, '2024-01-01T00:00:02Z second half\n'),
    ]),
  );
  assert.deepEqual(lines, [
    { time: new Date('2024-01-01T00:00:01Z'), stream: 'stdout', text: 'first halfsecond half' },
  ]);
});

test('a TTY stream is raw stdout; an unterminated last line comes out at the end', () => {
  const decoder = new DockerLogDecoder(false);
  assert.deepEqual(decoder.push(Buffer.from('2024-01-01T00:00:01Z a\r\n2024-01-01T00:00:02Z b')), [
    { time: new Date('2024-01-01T00:00:01Z'), stream: 'stdout', text: 'a' },
  ]);
  assert.deepEqual(decoder.end(), [{ time: new Date('2024-01-01T00:00:02Z'), stream: 'stdout', text: 'b' }]);
});

test('lastLines keeps the last N, all when N is undefined', () => {
  assert.deepEqual(lastLines([1, 2, 3], 2), [2, 3]);
  assert.deepEqual(lastLines([1, 2, 3], 0), []);
  assert.deepEqual(lastLines([1, 2, 3], undefined), [1, 2, 3]);
});
