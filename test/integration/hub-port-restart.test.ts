import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { TestDaemon, eventually, manifest, nodeModule } from '../helpers/daemon.js';

// The hub on port 0 (a free port chosen at start) and a daemon that restarts while its process
// modules run on: the adopted modules keep the gateway host:port they were started with, so the
// hub takes the same port again and their messages flow again.
describe('hub port 0 across a daemon restart', () => {
  const daemon = new TestDaemon({}, [], 'localhost');
  after(() => daemon.cleanup());

  const deployment = () => {
    const document = manifest({
      receiver: nodeModule('sdk-module.js', ['receiver']),
      sender: nodeModule('sdk-module.js', ['ticker', '200']),
    });
    (document.modulesContent.$edgeHub['properties.desired'] as { routes: Record<string, string> }).routes = {
      ticks:
        'FROM /messages/modules/sender/outputs/out1 INTO BrokeredEndpoint("/modules/receiver/inputs/in1")',
    };
    return document;
  };
  const lastSeq = (): number => {
    const seqs = [...daemon.cli(['logs', 'receiver']).stdout.matchAll(/^input in1 seq=(\d+)/gm)].map((m) =>
      Number(m[1]),
    );
    return seqs.length === 0 ? -1 : Math.max(...seqs);
  };
  const statuses = async () =>
    Object.fromEntries(
      (
        await daemon.json<{ modules: { name: string; status: { runtimeStatus: { status: string } } }[] }>(
          'GET',
          '/modules',
        )
      ).modules.map((m) => [m.name, m.status.runtimeStatus.status]),
    );
  const runRecord = (module: string) =>
    (
      JSON.parse(readFileSync(path.join(daemon.homedir, 'modules', module, 'run.json'), 'utf8')) as {
        pid: number;
      }
    ).pid;

  test('adopted SDK modules send and receive again after the restart', async () => {
    await daemon.start();
    assert.equal((await daemon.request('POST', '/deployment', deployment())).status, 200);
    await eventually(async () => (lastSeq() >= 3 ? true : undefined), 'ticks reaching the receiver', 60_000);
    const senderPid = runRecord('sender');

    const before = lastSeq();
    await daemon.signal('SIGKILL');
    await daemon.start();
    await eventually(
      async () => ((await statuses()).sender === 'running' ? true : undefined),
      'the sender adopted as running',
    );
    assert.equal(runRecord('sender'), senderPid, 'the sender was adopted, not started again');
    await eventually(
      async () => (lastSeq() > before + 3 ? true : undefined),
      `ticks after the restart (the receiver had seq ${before})`,
      60_000,
    );
    assert.equal(runRecord('sender'), senderPid, 'and kept running');
  });
});
