import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { iotedgedVersion, parseIotedgedVersion } from '../../src/checks/config/iotedged-version.js';
import { fetchLatestVersion } from '../../src/checks/support/latest-version.js';
import type { CheckInputs, CheckResult } from '../../src/checks/types.js';
import { startHttpServer, type TestHttpServer } from '../helpers/http-server.js';
import { testContext, type TestContext } from '../helpers/check-context.js';
import { startConnectProxy, type TestProxy } from '../helpers/proxy-server.js';
import { closedPort } from '../helpers/tls-servers.js';

const json = (body: unknown) => JSON.stringify(body);

async function fetchFailure(url: string, timeoutMs = 5_000): Promise<Error> {
  try {
    await fetchLatestVersion(url, { timeoutMs });
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('the fetch succeeded');
}

function messageOf(result: CheckResult): string {
  assert.ok(result.kind === 'warning' || result.kind === 'failed', JSON.stringify(result));
  return result.message;
}

describe('iotedged-version', () => {
  let dir: string;
  let daemon: string;
  let server: TestHttpServer;
  let unreachable: string;

  /** An executable that behaves like `iotedged --version`. */
  async function fakeDaemon(name: string, body: string, executable = true): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, `#!${process.execPath}\n${body}\n`);
    if (executable) await chmod(file, 0o755);
    return file;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotedged-version-'));
    daemon = await fakeDaemon('iotedged', "process.stdout.write('iotedged 1.1.19 (5a2e1bd)\\n');");
    server = await startHttpServer((req, res) => {
      const redirect = (status: number, location: string) => res.writeHead(status, { location }).end();
      const answer = (status: number, body: string) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      switch (req.url) {
        case '/latest-iotedge-stable':
          return redirect(301, '/releases/versions.json');
        case '/releases/versions.json':
          return answer(200, json({ iotedged: '1.1.19', 'azureiotedge-agent': '1.1.19' }));
        case '/newer':
          return redirect(302, `http://127.0.0.1:${server.port}/newer.json`);
        case '/newer.json':
          return answer(200, json({ iotedged: '1.1.20' }));
        case '/error':
          return answer(500, 'oops');
        case '/bad-json':
          return answer(200, '<html>not json</html>');
        case '/no-field':
          return answer(200, json({ aziot: '1.4.0' }));
        case '/loop':
          return redirect(301, '/loop');
        case '/hang':
          return; // never answers
        default:
          return answer(404, '');
      }
    });
    unreachable = `http://127.0.0.1:${await closedPort()}/latest`;
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const context = (inputs: Partial<CheckInputs>): TestContext =>
    testContext({ inputs: { iotedgedPath: daemon, cliVersion: '1.1.19', ...inputs } });

  test('parseIotedgedVersion accepts the real output shapes only', () => {
    assert.equal(parseIotedgedVersion('iotedged 1.1.19 (5a2e1bd)\n'), '1.1.19');
    assert.equal(parseIotedgedVersion('iotedged 1.1.19'), '1.1.19');
    assert.equal(parseIotedgedVersion('iotedge 1.1.19'), undefined);
    assert.equal(parseIotedgedVersion('iotedged 1.1.19 extra'), undefined);
  });

  describe('fetchLatestVersion', () => {
    test('follows redirects to the JSON document', async () => {
      const version = await fetchLatestVersion(`${server.origin}/latest-iotedge-stable`, {
        timeoutMs: 5_000,
      });
      assert.equal(version, '1.1.19');
      assert.equal(await fetchLatestVersion(`${server.origin}/newer`, { timeoutMs: 5_000 }), '1.1.20');
    });

    test('rejects HTTP errors, bad JSON, a missing field, loops, silence and unreachable servers', async () => {
      assert.match((await fetchFailure(`${server.origin}/error`)).message, /\/error answered HTTP 500$/);
      assert.match((await fetchFailure(`${server.origin}/bad-json`)).message, /did not answer with JSON/);
      assert.match(
        (await fetchFailure(`${server.origin}/no-field`)).message,
        /without a string "iotedged" field/,
      );
      assert.match((await fetchFailure(`${server.origin}/loop`)).message, /redirected more than 5 times/);
      assert.match(
        (await fetchFailure(`${server.origin}/hang`, 200)).message,
        /no answer from .* within 200 ms/,
      );
      assert.match((await fetchFailure(unreachable)).message, /could not GET .*ECONNREFUSED/);
    });

    test('goes through a proxy, and never prints its password', async () => {
      const proxy: TestProxy = await startConnectProxy({ auth: { username: 'edge', password: 'pw-secret' } });
      try {
        const url = `${server.origin}/latest-iotedge-stable`;
        assert.equal(await fetchLatestVersion(url, { timeoutMs: 5_000, proxy: proxy.url }), '1.1.19');
        assert.ok(proxy.requests.includes(`127.0.0.1:${server.port}`));
        const wrong = `http://edge:wrong-secret@127.0.0.1:${proxy.port}`;
        const error = await fetchLatestVersion(url, { timeoutMs: 5_000, proxy: wrong }).then(
          () => assert.fail('the fetch succeeded'),
          (e: Error) => e,
        );
        assert.match(error.message, /407/);
        assert.doesNotMatch(error.message, /wrong-secret/);
      } finally {
        await proxy.close();
      }
    });
  });

  test('matches --expected-iotedged-version and provides the fact', async () => {
    const ctx = context({ expectedIotedgedVersion: '1.1.19' });
    const result = await iotedgedVersion.run(ctx);
    assert.deepEqual(result, {
      kind: 'ok',
      additionalInfo: { actual_version: '1.1.19', expected_version: '1.1.19' },
    });
    assert.equal(ctx.provided.iotedgedVersion, '1.1.19');
    assert.deepEqual(iotedgedVersion.provides, ['iotedgedVersion']);
  });

  test('warns when the expected version differs', async () => {
    const ctx = context({ expectedIotedgedVersion: '1.1.20' });
    const result = await iotedgedVersion.run(ctx);
    assert.equal(result.kind, 'warning');
    assert.equal(
      messageOf(result),
      'Installed IoT Edge daemon has version 1.1.19 but 1.1.20 is the latest stable version available.\n' +
        "Please see the README's install section for update instructions.",
    );
    assert.deepEqual(result.additionalInfo, { actual_version: '1.1.19', expected_version: '1.1.20' });
    assert.equal(ctx.provided.iotedgedVersion, '1.1.19');
  });

  test('asks the latest-version URL when no version is expected', async () => {
    const okResult = await iotedgedVersion.run(
      context({ latestVersionUrl: `${server.origin}/latest-iotedge-stable` }),
    );
    assert.equal(okResult.kind, 'ok', JSON.stringify(okResult));
    const newer = await iotedgedVersion.run(context({ latestVersionUrl: `${server.origin}/newer` }));
    assert.equal(newer.kind, 'warning');
    assert.match(messageOf(newer), /but 1\.1\.20 is the latest stable version available/);
  });

  for (const [label, path] of [
    ['HTTP 500', '/error'],
    ['bad JSON', '/bad-json'],
  ] as const) {
    test(`a latest-version lookup answering ${label} is a warning, and the fact is still provided`, async () => {
      const ctx = context({ latestVersionUrl: `${server.origin}${path}` });
      const result = await iotedgedVersion.run(ctx);
      assert.equal(result.kind, 'warning');
      assert.match(messageOf(result), /^Error while fetching latest versions of edge components: /);
      assert.deepEqual(result.additionalInfo, { actual_version: '1.1.19', expected_version: null });
      assert.equal(ctx.provided.iotedgedVersion, '1.1.19');
    });
  }

  test('an unreachable latest-version URL is a warning', async () => {
    const result = await iotedgedVersion.run(context({ latestVersionUrl: unreachable }));
    assert.equal(result.kind, 'warning');
    assert.match(
      messageOf(result),
      /^Error while fetching latest versions of edge components: could not GET/,
    );
  });

  test('without URL or flag, the daemon must match this CLI', async () => {
    assert.equal((await iotedgedVersion.run(context({ cliVersion: '1.1.19' }))).kind, 'ok');
    const result = await iotedgedVersion.run(context({ cliVersion: '1.2.0' }));
    assert.equal(result.kind, 'warning');
    assert.match(
      messageOf(result),
      /^Installed IoT Edge daemon has version 1\.1\.19 but this iotedge CLI has version 1\.2\.0\./,
    );
  });

  test('a missing binary fails, naming the path and --iotedged, without a fact', async () => {
    const missing = join(dir, 'no-such-iotedged');
    const ctx = context({ iotedgedPath: missing, expectedIotedgedVersion: '1.1.19' });
    const result = await iotedgedVersion.run(ctx);
    assert.equal(result.kind, 'failed');
    assert.ok(messageOf(result).includes(missing));
    assert.match(messageOf(result), /--iotedged/);
    assert.equal(ctx.provided.iotedgedVersion, undefined);
  });

  test('output in another format fails', async () => {
    const odd = await fakeDaemon('odd-iotedged', "console.log('security daemon v1.1.19');");
    const result = await iotedgedVersion.run(context({ iotedgedPath: odd }));
    assert.equal(result.kind, 'failed');
    assert.equal(messageOf(result), 'Could not parse output of iotedged --version');
  });

  test('a non-zero exit fails with its stderr', async () => {
    const broken = await fakeDaemon(
      'broken-iotedged',
      "console.error('cannot load config'); process.exit(3);",
    );
    const result = await iotedgedVersion.run(context({ iotedgedPath: broken }));
    assert.equal(result.kind, 'failed');
    assert.ok(result.kind === 'failed');
    assert.deepEqual(result.causes, ['iotedged returned exit code 3, stderr = cannot load config']);
  });

  test('a .js daemon is run with Node even when not executable', async () => {
    const script = await fakeDaemon('iotedged.js', "console.log('iotedged 1.1.19');", false);
    const result = await iotedgedVersion.run(context({ iotedgedPath: script }));
    assert.equal(result.kind, 'ok', JSON.stringify(result));
  });
});
