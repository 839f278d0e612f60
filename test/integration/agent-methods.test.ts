import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, manifest, nodeModule } from '../helpers/daemon.js';

interface Invoked {
  code: number | null;
  status: number;
  payload: unknown;
}

/** `iotedge invoke TARGET METHOD --payload JSON --json` against `daemon`. */
async function invoke(
  daemon: TestDaemon,
  target: string,
  method: string,
  payload?: unknown,
): Promise<Invoked> {
  const args = ['invoke', target, method, '--json'];
  if (payload !== undefined) args.push('--payload', JSON.stringify(payload));
  const run = await daemon.cliAsync(args);
  assert.ok(run.stdout.trim().startsWith('{'), `invoke ${method}: ${run.stdout}${run.stderr}`);
  const result = JSON.parse(run.stdout) as { status: number; payload: unknown };
  return { code: run.code, ...result };
}

type LogsAnswer = { id: string; payload: string | null; payloadBytes: string | null }[];

/** The pids in the module's `started NAME pid=N` lines, oldest first. */
async function startedPids(daemon: TestDaemon, name: string): Promise<number[]> {
  const logs = await daemon.request('GET', `/modules/${name}/logs`);
  return [...logs.body.matchAll(/started \S+ pid=(\d+)/g)].map((match) => Number(match[1]));
}

describe("$edgeAgent's direct methods on a daemon", () => {
  const daemon = new TestDaemon();

  before(async () => {
    await daemon.start();
    const posted = await daemon.request(
      'POST',
      '/deployment',
      manifest({ ticker: nodeModule('sleeper.js', ['50']) }),
    );
    assert.equal(posted.status, 200, posted.body);
    await eventually(
      async () => ((await startedPids(daemon, 'ticker')).length > 0 ? true : undefined),
      'ticker started',
    );
  });

  after(() => daemon.cleanup());

  test('ping answers 200 with no payload, as $edgeAgent and as edgeAgent', async () => {
    for (const target of ['$edgeAgent', 'edgeAgent']) {
      const pong = await invoke(daemon, target, 'ping');
      assert.deepEqual(pong, { code: 0, status: 200, payload: null }, target);
    }
  });

  test('GetModuleLogs returns the last lines of the module, as text, gzip or JSON', async () => {
    await eventually(async () => {
      const logs = await daemon.request('GET', '/modules/ticker/logs');
      return (logs.body.match(/tick ticker/g) ?? []).length >= 5 ? true : undefined;
    }, 'ticker ticked');
    const text = await invoke(daemon, '$edgeAgent', 'GetModuleLogs', {
      schemaVersion: '1.0',
      items: [{ id: '^tick', filter: { tail: 3 } }],
    });
    assert.equal(text.status, 200, JSON.stringify(text.payload));
    const [entry] = text.payload as LogsAnswer;
    assert.equal((text.payload as LogsAnswer).length, 1);
    assert.equal(entry!.id, 'ticker');
    assert.equal(entry!.payloadBytes, null);
    const lines = entry!.payload!.split('\n');
    assert.equal(lines.pop(), '', 'each line ends with a newline');
    assert.equal(lines.length, 3);
    for (const line of lines) assert.match(line, /^tick ticker$/);

    const zipped = await invoke(daemon, '$edgeAgent', 'GetModuleLogs', {
      schemaVersion: '1.0',
      items: [{ id: 'ticker', filter: { regex: '^started' } }],
      encoding: 'gzip',
    });
    assert.equal(zipped.status, 200, JSON.stringify(zipped.payload));
    const [gz] = zipped.payload as LogsAnswer;
    assert.equal(gz!.payload, null);
    assert.match(
      gunzipSync(Buffer.from(gz!.payloadBytes!, 'base64')).toString('utf8'),
      /^started ticker pid=\d+ /,
    );

    const json = await invoke(daemon, '$edgeAgent', 'GetModuleLogs', {
      schemaVersion: '1.0',
      items: { id: 'ticker', filter: { tail: 1 } },
      contentType: 'json',
    });
    const [messages] = json.payload as LogsAnswer;
    const parsed = JSON.parse(messages!.payload!) as Record<string, unknown>[];
    assert.equal(parsed.length, 1);
    assert.equal(parsed[0]!.id, 'ticker');
    assert.equal(parsed[0]!.device, 'edge-1');
    assert.equal(parsed[0]!.iothub, 'hub.example.net');
    assert.equal(parsed[0]!.loglevel, 6);
    assert.ok(!Number.isNaN(Date.parse(parsed[0]!.timestamp as string)));
  });

  test('RestartModule restarts the module (a new process), and edgeHub', async () => {
    const before = (await startedPids(daemon, 'ticker')).at(-1);
    const restarted = await invoke(daemon, '$edgeAgent', 'RestartModule', {
      schemaVersion: '1.0',
      id: 'ticker',
    });
    assert.deepEqual(restarted, { code: 0, status: 200, payload: null });
    const after = await eventually(async () => {
      const pid = (await startedPids(daemon, 'ticker')).at(-1);
      return pid !== before ? pid : undefined;
    }, 'ticker started again');
    assert.notEqual(after, before);
    // the hub that answers the method restarts with it, and the new one serves the agent's methods too
    const hub = await invoke(daemon, '$edgeAgent', 'RestartModule', { schemaVersion: '1.0', id: 'edgeHub' });
    assert.deepEqual(hub, { code: 0, status: 200, payload: null });
    assert.match(daemon.output, /hub: restarting/);
    assert.deepEqual(await invoke(daemon, '$edgeAgent', 'ping'), { code: 0, status: 200, payload: null });
    const unknown = await invoke(daemon, '$edgeAgent', 'RestartModule', {
      schemaVersion: '1.0',
      id: 'ghost',
    });
    assert.deepEqual(unknown, {
      code: 1,
      status: 500,
      payload: { message: 'Module ghost not found in the current environment' },
    });
  });

  test('a bad payload is 400 naming the field; an unknown method 400; uploads 501', async () => {
    const bad = await invoke(daemon, '$edgeAgent', 'RestartModule', { id: 'ticker' });
    assert.equal(bad.code, 1);
    assert.equal(bad.status, 400);
    assert.match((bad.payload as { message: string }).message, /^schemaVersion: /);
    const tail = await invoke(daemon, '$edgeAgent', 'GetModuleLogs', {
      schemaVersion: '1.0',
      items: [{ id: 'ticker', filter: { tail: 'ten' } }],
    });
    assert.equal(tail.status, 400);
    assert.match((tail.payload as { message: string }).message, /^items\[0\]\.filter\.tail: /);
    const unknown = await invoke(daemon, '$edgeAgent', 'Reboot');
    assert.equal(unknown.status, 400);
    assert.match((unknown.payload as { message: string }).message, /^Command 'Reboot' not found/);
    const upload = await invoke(daemon, '$edgeAgent', 'UploadSupportBundle', {
      schemaVersion: '1.0',
      sasUrl: 'x',
    });
    assert.equal(upload.status, 501);
    const task = await invoke(daemon, '$edgeAgent', 'GetTaskStatus', {
      schemaVersion: '1.0',
      correlationId: 'c1',
    });
    assert.deepEqual(task.payload, { status: 'Unknown', message: '', correlationId: 'c1' });
  });
});
