import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  buildRequest,
  clockOffset,
  parseNtpServer,
  parseResponse,
  readNtpTimestamp,
  SntpError,
  writeNtpTimestamp,
} from '../../src/checks/support/sntp.js';

const reasonOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SntpError, String(error));
    return error.reason;
  }
  assert.fail('did not throw');
};

/** A server reply to `request` with the given receive/transmit times. */
function reply(
  request: Buffer,
  receiveMs: number,
  transmitMs: number,
  patch: (b: Buffer) => void = () => {},
): Buffer {
  const buffer = Buffer.alloc(48);
  buffer[0] = (4 << 3) | 4;
  buffer[1] = 2;
  request.copy(buffer, 24, 40, 48);
  writeNtpTimestamp(buffer, 32, receiveMs);
  writeNtpTimestamp(buffer, 40, transmitMs);
  patch(buffer);
  return buffer;
}

describe('parseNtpServer', () => {
  test('host, host:port, [v6]:port and bare IPv6', () => {
    assert.deepEqual(parseNtpServer('pool.ntp.org:123'), { host: 'pool.ntp.org', port: 123 });
    assert.deepEqual(parseNtpServer('time.example'), { host: 'time.example', port: 123 });
    assert.deepEqual(parseNtpServer('[::1]:1123'), { host: '::1', port: 1123 });
    assert.deepEqual(parseNtpServer('fe80::1'), { host: 'fe80::1', port: 123 });
  });

  test('rejects what is not host[:port]', () => {
    for (const bad of ['', 'host:0', 'host:70000', 'host:abc', 'a:b:c:zz']) {
      assert.equal(
        reasonOf(() => parseNtpServer(bad)),
        'invalid-server',
        bad,
      );
    }
  });
});

describe('NTP timestamps', () => {
  test('round-trip Unix milliseconds with sub-millisecond precision', () => {
    const buffer = Buffer.alloc(8);
    for (const ms of [0, 1_700_000_000_123.25, Date.UTC(2040, 0, 1, 12, 0, 0, 500)]) {
      writeNtpTimestamp(buffer, 0, ms);
      assert.ok(Math.abs(readNtpTimestamp(buffer, 0) - ms) < 0.001, String(ms));
    }
  });

  test('the Unix epoch is NTP second 2208988800 and 2036 wraps to era 1', () => {
    const buffer = Buffer.alloc(8);
    writeNtpTimestamp(buffer, 0, 0);
    assert.equal(buffer.readUInt32BE(0), 2_208_988_800);
    buffer.writeUInt32BE(0, 0);
    buffer.writeUInt32BE(0, 4);
    assert.equal(new Date(readNtpTimestamp(buffer, 0)).toISOString(), '2036-02-07T06:28:16.000Z');
  });
});

describe('buildRequest', () => {
  test('is an NTPv4 client packet carrying the transmit time', () => {
    const request = buildRequest(1_700_000_000_000);
    assert.equal(request.length, 48);
    assert.equal(request[0], 0x23);
    assert.equal(readNtpTimestamp(request, 40), 1_700_000_000_000);
    assert.ok(request.subarray(1, 40).every((byte) => byte === 0));
  });
});

describe('parseResponse', () => {
  const request = buildRequest(1_700_000_000_000);

  test('returns the receive and transmit timestamps', () => {
    const parsed = parseResponse(reply(request, 1_700_000_030_000, 1_700_000_030_001), request);
    assert.ok(Math.abs(parsed.receiveMs - 1_700_000_030_000) < 0.001);
    assert.ok(Math.abs(parsed.transmitMs - 1_700_000_030_001) < 0.001);
  });

  test('rejects short, wrong-mode, unanswered and empty replies as malformed', () => {
    assert.equal(
      reasonOf(() => parseResponse(Buffer.alloc(20), request)),
      'malformed',
    );
    const wrongMode = reply(request, 1, 2, (b) => (b[0] = (4 << 3) | 3));
    assert.equal(
      reasonOf(() => parseResponse(wrongMode, request)),
      'malformed',
    );
    const otherRequest = reply(buildRequest(1_600_000_000_000), 1, 2);
    assert.equal(
      reasonOf(() => parseResponse(otherRequest, request)),
      'malformed',
    );
    const noTransmit = reply(request, 1, 2, (b) => b.fill(0, 40, 48));
    assert.equal(
      reasonOf(() => parseResponse(noTransmit, request)),
      'malformed',
    );
  });

  test("kiss-o'-death and unsynchronized servers are server errors", () => {
    const kiss = reply(request, 1, 2, (b) => {
      b[1] = 0;
      b.write('RATE', 12, 'latin1');
    });
    assert.throws(() => parseResponse(kiss, request), /kiss code "RATE"/);
    const alarm = reply(request, 1, 2, (b) => (b[0] = (3 << 6) | (4 << 3) | 4));
    assert.equal(
      reasonOf(() => parseResponse(alarm, request)),
      'server',
    );
  });
});

test('clockOffset follows RFC 4330', () => {
  // Server 30 s ahead, 100 ms each way, 2 ms processing.
  const t0 = 1_000_000;
  const result = clockOffset(t0, t0 + 100 + 30_000, t0 + 102 + 30_000, t0 + 202);
  assert.equal(result.offsetMs, 30_000);
  assert.equal(result.delayMs, 200);
  assert.equal(clockOffset(0, -5_000, -5_000, 0).offsetMs, -5_000);
});
