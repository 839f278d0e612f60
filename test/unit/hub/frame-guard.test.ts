import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FrameGuard } from '../../../src/runtime/hub/mqtt-head/frame-guard.js';
import { publishHeader } from '../../helpers/mqtt-client.js';

const CONNECT = Buffer.from([0x10, 3, 0, 0, 0]);
test('packets within the limit pass, however the bytes are split', () => {
  const guard = new FrameGuard(300);
  const stream = Buffer.concat([
    CONNECT,
    publishHeader(300),
    Buffer.alloc(300),
    publishHeader(2),
    Buffer.alloc(2),
  ]);
  for (let at = 0; at < stream.length; at += 7)
    assert.equal(guard.feed(stream.subarray(at, at + 7)), undefined);
});

test('a header announcing more than the limit is refused before its body arrives', () => {
  const guard = new FrameGuard(300);
  assert.equal(guard.feed(CONNECT), undefined);
  const header = publishHeader(301);
  assert.equal(guard.feed(header.subarray(0, 2)), undefined, 'the length is not complete yet');
  assert.equal(guard.feed(header.subarray(2)), 'a packet of 301 bytes is over the 300-byte limit');
  assert.equal(
    guard.feed(Buffer.alloc(1)),
    'a packet of 301 bytes is over the 300-byte limit',
    'and stays refused',
  );
});

test('a first packet that is not a CONNECT, or a remaining length of five bytes, is refused', () => {
  assert.equal(new FrameGuard(300).feed(publishHeader(1)), 'the first packet is not a CONNECT');
  const guard = new FrameGuard(2 ** 30);
  assert.equal(
    guard.feed(Buffer.concat([CONNECT, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff])])),
    'malformed remaining length',
  );
});

test('whole packets come out in order, however the bytes are split, a body never cut', () => {
  const packets = [
    CONNECT,
    Buffer.concat([publishHeader(300), Buffer.alloc(300, 1)]),
    Buffer.from([0x40, 2, 0, 9]),
    Buffer.concat([publishHeader(2), Buffer.from([2, 3])]),
    Buffer.concat([publishHeader(200_000), Buffer.alloc(200_000, 4)]),
  ];
  const stream = Buffer.concat(packets);
  for (const step of [1, 3, 7, 500, 16_384, stream.length]) {
    const guard = new FrameGuard(300_000);
    const seen: Buffer[] = [];
    for (let at = 0; at < stream.length; at += step) {
      const problem = guard.feed(stream.subarray(at, at + step), (packet) => seen.push(Buffer.from(packet)));
      assert.equal(problem, undefined);
    }
    assert.deepEqual(seen, packets, `in pieces of ${step} bytes`);
  }
});

test('where the body starts: after the fixed header and its remaining length', () => {
  const starts: number[] = [];
  const guard = new FrameGuard(300_000);
  guard.feed(
    Buffer.concat([
      CONNECT,
      publishHeader(200),
      Buffer.alloc(200),
      publishHeader(20_000),
      Buffer.alloc(20_000),
    ]),
    (_packet, bodyAt) => starts.push(bodyAt),
  );
  assert.deepEqual(starts, [2, 3, 4]);
});
