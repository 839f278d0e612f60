import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeFrames,
  encodeLogFrame,
  FrameDecoder,
  TruncatedLogStreamError,
  type LogFrame,
} from '../../src/runtime/daemon/log-frames.js';

const simple = (frames: LogFrame[]) => frames.map(({ stream, payload }) => [stream, payload.toString()]);

const stream = Buffer.concat([
  encodeLogFrame('stdout', 'first line\n'),
  encodeLogFrame('stderr', 'an error\n'),
  encodeLogFrame('stdout', ''),
  encodeLogFrame('stdout', 'ünïcode line\n'),
  // encodeLogFrame writes no stdin frames: this one is spelled out
  Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 7]), Buffer.from('stdin?\n')]),
]);
const expected = [
  [1, 'first line\n'],
  [2, 'an error\n'],
  [1, ''],
  [1, 'ünïcode line\n'],
  [0, 'stdin?\n'],
];

test('frames in one chunk come out in order with their stream', () => {
  const decoder = new FrameDecoder();
  assert.deepEqual(simple(decoder.push(stream)), expected);
  assert.equal(decoder.pendingBytes, 0);
});

test('frames split at every possible point come out the same', () => {
  for (let cut = 0; cut <= stream.length; cut += 1) {
    const decoder = new FrameDecoder();
    const frames = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
    assert.deepEqual(simple(frames), expected, `cut at ${cut}`);
  }
});

test('frames fed one byte at a time come out the same, each as soon as it is complete', () => {
  const decoder = new FrameDecoder();
  const frames: LogFrame[] = [];
  const first = encodeLogFrame('stdout', 'first line\n').length;
  for (let i = 0; i < stream.length; i += 1) {
    const done = decoder.push(stream.subarray(i, i + 1));
    if (i === first - 1) assert.deepEqual(simple(done), [expected[0]]);
    frames.push(...done);
  }
  assert.deepEqual(simple(frames), expected);
  assert.equal(decoder.pendingBytes, 0);
});

test('a large payload across many chunks is reassembled', () => {
  const big = 'x'.repeat(200_000);
  const bytes = encodeLogFrame('stdout', big);
  const decoder = new FrameDecoder();
  const frames: LogFrame[] = [];
  for (let i = 0; i < bytes.length; i += 65_536) frames.push(...decoder.push(bytes.subarray(i, i + 65_536)));
  assert.equal(frames.length, 1);
  assert.equal(frames[0].payload.toString(), big);
});

async function* chunks(...parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield part;
}

test('decodeFrames reads an async stream and rejects one that ends inside a frame', async () => {
  const frames: LogFrame[] = [];
  for await (const f of decodeFrames(chunks(stream.subarray(0, 5), stream.subarray(5)))) frames.push(f);
  assert.deepEqual(simple(frames), expected);

  const truncated = decodeFrames(
    chunks(encodeLogFrame('stdout', 'ok\n'), encodeLogFrame('stdout', 'cut short').subarray(0, 12)),
  );
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const f of truncated) seen.push(f.payload.toString());
    })(),
    (error: Error) =>
      error instanceof TruncatedLogStreamError &&
      /ended in the middle of a frame \(12 bytes left\)/.test(error.message),
  );
  assert.deepEqual(seen, ['ok\n']);
});

test('encodeLogFrame writes the stream and byte length of the UTF-8 payload', () => {
  assert.deepEqual([...encodeLogFrame('stdout', 'é\n')], [1, 0, 0, 0, 0, 0, 0, 3, 0xc3, 0xa9, 0x0a]);
  assert.deepEqual([...encodeLogFrame('stderr', '')], [2, 0, 0, 0, 0, 0, 0, 0]);
});

test('encoded frames decode to the same streams and text, split at every byte', () => {
  const lines: ['stdout' | 'stderr', string][] = [
    ['stdout', 'first line\n'],
    ['stderr', 'an error\n'],
    ['stdout', ''],
    ['stderr', 'ünïcode ✓ line\n'],
    ['stdout', 'x'.repeat(300) + '\n'],
  ];
  const bytes = Buffer.concat(lines.map(([name, text]) => encodeLogFrame(name, text)));
  const want = lines.map(([name, text]) => [name === 'stdout' ? 1 : 2, text]);
  for (let cut = 0; cut <= bytes.length; cut += 1) {
    const decoder = new FrameDecoder();
    const frames = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
    assert.deepEqual(simple(frames), want, `cut at ${cut}`);
    assert.equal(decoder.pendingBytes, 0);
  }
});
