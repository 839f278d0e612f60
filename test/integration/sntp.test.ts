import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { hostLocalTime } from '../../src/checks/config/host-local-time.js';
import { querySntp, SntpError } from '../../src/checks/support/sntp.js';
import { testContext } from '../helpers/check-context.js';
import { startSntpServer, type TestSntpServer } from '../helpers/sntp-server.js';

async function queryFailure(server: string, timeoutMs: number): Promise<SntpError> {
  try {
    await querySntp(server, { timeoutMs });
  } catch (error) {
    assert.ok(error instanceof SntpError, String(error));
    return error;
  }
  assert.fail('the query succeeded');
}

describe('SNTP against a loopback server', () => {
  let inSync: TestSntpServer;
  let ahead: TestSntpServer;
  let behind: TestSntpServer;
  let silent: TestSntpServer;
  let malformed: TestSntpServer;

  before(async () => {
    [inSync, ahead, behind, silent, malformed] = await Promise.all([
      startSntpServer(),
      startSntpServer({ skewMs: 30_000 }),
      startSntpServer({ skewMs: -12_500 }),
      startSntpServer({ behaviour: 'silent' }),
      startSntpServer({ behaviour: 'malformed' }),
    ]);
  });

  after(async () => {
    for (const server of [inSync, ahead, behind, silent, malformed]) await server?.close();
  });

  test('querySntp measures the offset of a skewed clock', async () => {
    const { offsetMs, delayMs } = await querySntp(ahead.address, { timeoutMs: 5_000 });
    assert.ok(Math.abs(offsetMs - 30_000) < 1_000, `offset ${offsetMs}`);
    assert.ok(delayMs >= 0 && delayMs < 1_000, `delay ${delayMs}`);
    assert.equal(ahead.requests(), 1);
  });

  test('querySntp times out on a server that never answers', async () => {
    const error = await queryFailure(silent.address, 200);
    assert.equal(error.reason, 'timeout');
    assert.match(error.message, new RegExp(`no answer from NTP server ${silent.address} within 200 ms`));
  });

  test('querySntp reports a closed port as refused', async () => {
    const closed = await startSntpServer();
    await closed.close();
    const error = await queryFailure(closed.address, 5_000);
    assert.equal(error.reason, 'refused');
  });

  test('host-local-time: in sync → ok with offset 0', async () => {
    const result = await hostLocalTime.run(testContext({ inputs: { ntpServer: inSync.address } }));
    assert.deepEqual(result, { kind: 'ok', additionalInfo: { offset: 0 } });
  });

  test('host-local-time: 30 s ahead → warning with the offset in seconds', async () => {
    const result = await hostLocalTime.run(testContext({ inputs: { ntpServer: ahead.address } }));
    assert.equal(result.kind, 'warning');
    assert.ok(result.kind === 'warning');
    assert.match(result.message, /^Time on the device is out of sync with the NTP server\./);
    assert.match(
      result.message,
      /\nPlease ensure time on device is accurate, for example by installing an NTP daemon\.$/,
    );
    assert.ok(
      [29, 30].includes(result.additionalInfo?.offset as number),
      JSON.stringify(result.additionalInfo),
    );
  });

  test('host-local-time: a clock behind is out of sync too', async () => {
    const result = await hostLocalTime.run(testContext({ inputs: { ntpServer: behind.address } }));
    assert.equal(result.kind, 'warning');
    assert.ok(
      [12, 13].includes(result.additionalInfo?.offset as number),
      JSON.stringify(result.additionalInfo),
    );
  });

  test('host-local-time: a server that never answers is a warning once the time runs out', async () => {
    const context = testContext({ inputs: { ntpServer: silent.address }, signal: AbortSignal.timeout(300) });
    const result = await hostLocalTime.run(context);
    assert.equal(result.kind, 'warning', JSON.stringify(result));
    assert.ok(result.kind === 'warning');
    assert.equal(result.message, 'Could not query NTP server');
    assert.deepEqual(result.additionalInfo, { offset: null });
  });

  test('host-local-time: a malformed reply fails', async () => {
    const result = await hostLocalTime.run(testContext({ inputs: { ntpServer: malformed.address } }));
    assert.equal(result.kind, 'failed', JSON.stringify(result));
    assert.ok(result.kind === 'failed');
    assert.equal(result.message, 'Could not query NTP server');
    assert.match(result.causes?.[0] ?? '', /NTP reply is 17 bytes long/);
  });

  test('host-local-time: an invalid --ntp-server fails', async () => {
    const result = await hostLocalTime.run(testContext({ inputs: { ntpServer: 'pool.ntp.org:notaport' } }));
    assert.equal(result.kind, 'failed');
  });
});
