import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  containerEngineDnsCheck,
  containerEngineIpv6Check,
  containerEngineLogrotateCheck,
} from '../../src/checks/container/daemon-config.js';
import {
  dnsServers,
  ipv6Setting,
  ipv6Verdict,
  logPolicy,
  logsRotate,
  parseDaemonJson,
  readDaemonJson,
} from '../../src/checks/support/daemon-json.js';
import type { CheckResult } from '../../src/checks/types.js';
import { testContext, testSettings } from '../helpers/check-context.js';

describe('daemon.json parsing', () => {
  test('parseDaemonJson accepts an object and rejects other JSON and non-JSON', () => {
    assert.deepEqual(parseDaemonJson('{"dns": ["1.1.1.1"]}'), { dns: ['1.1.1.1'] });
    assert.throws(() => parseDaemonJson('[]'), /expected a JSON object, found an array/);
    assert.throws(() => parseDaemonJson('null'), /expected a JSON object/);
    assert.throws(() => parseDaemonJson('{"dns": '), SyntaxError);
  });

  test('dnsServers: absent or null is undefined, a wrong type throws', () => {
    assert.equal(dnsServers({}), undefined);
    assert.equal(dnsServers({ dns: null }), undefined);
    assert.deepEqual(dnsServers({ dns: [] }), []);
    assert.deepEqual(dnsServers({ dns: ['8.8.8.8', '1.1.1.1'] }), ['8.8.8.8', '1.1.1.1']);
    assert.throws(() => dnsServers({ dns: '8.8.8.8' }), /invalid type for "dns"/);
    assert.throws(() => dnsServers({ dns: [8] }), /invalid type for "dns"/);
  });

  test('ipv6Setting reads a boolean only', () => {
    assert.equal(ipv6Setting({}), undefined);
    assert.equal(ipv6Setting({ ipv6: true }), true);
    assert.equal(ipv6Setting({ ipv6: false }), false);
    assert.throws(() => ipv6Setting({ ipv6: 'true' }), /invalid type for "ipv6"/);
  });

  test('logPolicy keeps the driver and the rotation options, ignoring other keys', () => {
    assert.deepEqual(logPolicy({}), {});
    assert.deepEqual(
      logPolicy({
        'log-driver': 'json-file',
        'log-opts': { 'max-size': '10m', 'max-file': '3', compress: 'true' },
      }),
      { 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } },
    );
    assert.throws(() => logPolicy({ 'log-opts': { 'max-file': 3 } }), /invalid type for "log-opts.max-file"/);
    assert.throws(() => logPolicy({ 'log-opts': [] }), /invalid type for "log-opts"/);
  });

  test('logsRotate needs a driver and both limits, unless the driver rotates by itself', () => {
    assert.equal(logsRotate({}), false);
    assert.equal(logsRotate({ 'log-driver': 'json-file' }), false);
    assert.equal(logsRotate({ 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m' } }), false);
    assert.equal(logsRotate({ 'log-opts': { 'max-size': '10m', 'max-file': '3' } }), false);
    assert.equal(
      logsRotate({ 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } }),
      true,
    );
    assert.equal(logsRotate({ 'log-driver': 'journald' }), true);
    assert.equal(logsRotate({ 'log-driver': 'local' }), true);
  });

  test('ipv6Verdict', () => {
    assert.equal(ipv6Verdict(false, true, 'linux'), 'ok');
    assert.equal(ipv6Verdict(true, true, 'linux'), 'ok');
    assert.equal(ipv6Verdict(true, true, 'win32'), 'unsupported');
    assert.equal(ipv6Verdict(true, false, 'linux'), 'failed');
    assert.equal(ipv6Verdict(true, undefined, 'linux'), 'failed');
    assert.equal(ipv6Verdict(false, false, 'linux'), 'ignored');
    assert.equal(ipv6Verdict(false, undefined, 'linux'), 'ignored');
  });
});

describe('daemon.json checks', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotedge-daemon-json-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  let counter = 0;
  async function daemonJson(content: string | undefined): Promise<string> {
    const path = join(dir, `daemon-${(counter += 1)}.json`);
    if (content !== undefined) await writeFile(path, content);
    return path;
  }
  const context = (path: string, ipv6?: boolean) =>
    testContext({
      facts: {
        settings: testSettings({
          moby_runtime: {
            uri: 'unix:///var/run/docker.sock',
            network: ipv6 === undefined ? 'azure-iot-edge' : { name: 'azure-iot-edge', ipv6 },
          },
        }),
      },
      inputs: { containerEngineConfigFile: path },
    });
  const details = (result: CheckResult) =>
    'message' in result ? [result.message, ...(result.causes ?? [])] : [];

  test('container-engine-dns: ok with DNS servers, warning without, or when the file is missing', async () => {
    const okPath = await daemonJson('{"dns": ["1.1.1.1"]}');
    const ok = await containerEngineDnsCheck.run(context(okPath));
    assert.equal(ok.kind, 'ok');
    assert.deepEqual(ok.additionalInfo, { container_engine_config_path: okPath, dns: ['1.1.1.1'] });

    const empty = await containerEngineDnsCheck.run(context(await daemonJson('{"dns": []}')));
    assert.equal(empty.kind, 'warning');
    assert.match(details(empty)[0], /^Container engine is not configured with DNS server setting/);
    assert.match(details(empty)[0], /aka\.ms\/iotedge-prod-checklist-dns/);

    const missingPath = await daemonJson(undefined);
    const missing = await containerEngineDnsCheck.run(context(missingPath));
    assert.equal(missing.kind, 'warning');
    assert.equal(details(missing)[1], `Could not open container engine config file ${missingPath}`);
  });

  test('container-engine-dns: invalid JSON or a wrong type fails naming the file', async () => {
    const badPath = await daemonJson('{"dns": [');
    const bad = await containerEngineDnsCheck.run(context(badPath));
    assert.equal(bad.kind, 'failed');
    assert.equal(details(bad)[1], `Could not parse container engine config file ${badPath}`);

    const wrong = await containerEngineDnsCheck.run(context(await daemonJson('{"dns": "1.1.1.1"}')));
    assert.equal(wrong.kind, 'failed');
    assert.match(details(wrong)[2], /invalid type for "dns"/);
  });

  test('container-engine-logrotate: warning unless driver, max-file and max-size are set', async () => {
    const rotating = '{"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}';
    const ok = await containerEngineLogrotateCheck.run(context(await daemonJson(rotating)));
    assert.equal(ok.kind, 'ok');
    assert.deepEqual(ok.additionalInfo, {
      daemon_config: { 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } },
    });

    const partial = await containerEngineLogrotateCheck.run(
      context(await daemonJson('{"log-driver": "json-file", "log-opts": {"max-size": "10m"}}')),
    );
    assert.equal(partial.kind, 'warning');
    assert.match(details(partial)[0], /^Container engine is not configured to rotate module logs/);

    assert.equal(
      (await containerEngineLogrotateCheck.run(context(await daemonJson(undefined)))).kind,
      'warning',
    );
    assert.equal((await containerEngineLogrotateCheck.run(context(await daemonJson('nope')))).kind, 'failed');
  });

  test('container-engine-ipv6: follows moby_runtime.network.ipv6', async () => {
    const on = await daemonJson('{"ipv6": true}');
    const off = await daemonJson('{"ipv6": false}');
    const missing = await daemonJson(undefined);

    const expectedOn = await containerEngineIpv6Check.run(context(on, true));
    assert.equal(expectedOn.kind, process.platform === 'win32' ? 'failed' : 'ok');
    assert.deepEqual(expectedOn.additionalInfo, { expected_use_ipv6: true, actual_use_ipv6: true });

    const expectedOff = await containerEngineIpv6Check.run(context(off, true));
    assert.equal(expectedOff.kind, 'failed');
    assert.match(details(expectedOff)[0], /^Container engine is not configured for IPv6 communication/);

    assert.equal((await containerEngineIpv6Check.run(context(missing, true))).kind, 'failed');
    assert.equal((await containerEngineIpv6Check.run(context(missing))).kind, 'ignored');
    assert.equal((await containerEngineIpv6Check.run(context(off))).kind, 'ignored');
    assert.equal(
      (await containerEngineIpv6Check.run(context(await daemonJson('{"ipv6": 1}')))).kind,
      'failed',
    );
  });

  test('readDaemonJson distinguishes unreadable, invalid and ok', async () => {
    assert.equal((await readDaemonJson(await daemonJson(undefined))).kind, 'unreadable');
    assert.equal((await readDaemonJson(await daemonJson('[1]'))).kind, 'invalid');
    assert.equal((await readDaemonJson(await daemonJson('{}'))).kind, 'ok');
  });
});
