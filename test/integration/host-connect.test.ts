import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';

import {
  hostConnectDpsEndpoint,
  hostConnectIothubAmqp,
  hostConnectIothubHttps,
  hostConnectIothubMqtt,
} from '../../src/checks/connectivity/host-connect.js';
import type { CheckResult, HubPorts } from '../../src/checks/types.js';
import type { Settings } from '../../src/runtime/config/settings.js';
import { testPki } from '../helpers/certs.js';
import { testContext, testSettings } from '../helpers/check-context.js';
import { startConnectProxy, type TestProxy } from '../helpers/proxy-server.js';
import { closedPort, startTlsServer, type TestServer } from '../helpers/tls-servers.js';

function assertFailed(result: CheckResult): { message: string; causes: string[] } {
  assert.equal(result.kind, 'failed', JSON.stringify(result));
  if (result.kind !== 'failed') throw new Error('unreachable');
  return { message: result.message, causes: result.causes ?? [] };
}

describe('host-connect checks', () => {
  let dir: string;
  let caFile: string;
  let valid: TestServer;
  let expired: TestServer;
  let proxy: TestProxy;
  let refusingProxy: TestProxy;
  let refused: number;
  let ports: HubPorts;

  before(async () => {
    const pki = testPki();
    dir = await mkdtemp(join(tmpdir(), 'host-connect-'));
    caFile = join(dir, 'trusted-ca.pem');
    await writeFile(caFile, pki.ca.cert);
    [valid, expired] = await Promise.all([startTlsServer(pki.server), startTlsServer(pki.expired)]);
    proxy = await startConnectProxy({ auth: { username: 'edge', password: 'pr0xy-secret' } });
    refusingProxy = await startConnectProxy({ refuseWith: 403 });
    refused = await closedPort();
    ports = { amqp: valid.port, https: valid.port, mqtt: expired.port };
  });

  after(async () => {
    for (const server of [valid, expired, proxy, refusingProxy]) await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const trusting = (overrides: Partial<Settings> = {}): Settings =>
    testSettings({
      certificates: { trusted_ca_certs: caFile, auto_generated_ca_lifetime_days: 90 },
      ...overrides,
    });

  const hubContext = (settings: Settings, hubPorts: HubPorts = ports, proxyUri?: string) =>
    testContext({ facts: { settings, iothubHostname: 'localhost' }, inputs: { hubPorts, proxyUri } });

  test('declare their ids and prerequisites', () => {
    assert.equal(hostConnectDpsEndpoint.id, 'host-connect-dps-endpoint');
    assert.deepEqual(hostConnectDpsEndpoint.needs, ['settings']);
    for (const [check, protocol] of [
      [hostConnectIothubAmqp, 'amqp'],
      [hostConnectIothubHttps, 'https'],
      [hostConnectIothubMqtt, 'mqtt'],
    ] as const) {
      assert.equal(check.id, `host-connect-iothub-${protocol}`);
      assert.deepEqual(check.needs, ['settings', 'iothubHostname']);
    }
  });

  test('AMQP port: handshake verified with certificates.trusted_ca_certs', async () => {
    const result = await hostConnectIothubAmqp.run(hubContext(trusting()));
    assert.deepEqual(result, {
      kind: 'ok',
      additionalInfo: { iothub_hostname: 'localhost', port_number: valid.port, proxy: null },
    });
  });

  test('trusted_ca_certs may be a file:// URI', async () => {
    const settings = testSettings({
      certificates: { trusted_ca_certs: pathToFileURL(caFile).href, auto_generated_ca_lifetime_days: 90 },
    });
    assert.equal((await hostConnectIothubAmqp.run(hubContext(settings))).kind, 'ok');
  });

  test('without the extra CA the handshake fails as a certificate problem', async () => {
    const { message, causes } = assertFailed(await hostConnectIothubAmqp.run(hubContext(testSettings())));
    assert.equal(message, `Could not connect to localhost:${valid.port} : could not complete TLS handshake`);
    assert.match(causes[0], /self[- ]signed|unable to verify|issuer/i);
  });

  test('an unreadable trusted_ca_certs file fails the check, naming the file', async () => {
    const settings = testSettings({
      certificates: { trusted_ca_certs: join(dir, 'missing.pem'), auto_generated_ca_lifetime_days: 90 },
    });
    const { message, causes } = assertFailed(await hostConnectIothubAmqp.run(hubContext(settings)));
    assert.match(message, /certificates\.trusted_ca_certs/);
    assert.match(causes.join('\n'), /missing\.pem/);
  });

  test('MQTT port: an expired server certificate fails with Node wording', async () => {
    const { message, causes } = assertFailed(await hostConnectIothubMqtt.run(hubContext(trusting())));
    assert.equal(
      message,
      `Could not connect to localhost:${expired.port} : could not complete TLS handshake`,
    );
    assert.deepEqual(causes, ['certificate has expired']);
  });

  test('a closed port fails (not a warning)', async () => {
    const result = await hostConnectIothubMqtt.run(hubContext(trusting(), { ...ports, mqtt: refused }));
    const { message, causes } = assertFailed(result);
    assert.equal(message, `Could not connect to localhost:${refused}`);
    assert.equal(causes[0], `connection refused by localhost:${refused}`);
  });

  test('HTTPS port goes through agent.env.https_proxy, credentials hidden', async () => {
    const settings = trusting({ agent: { ...testSettings().agent, env: { https_proxy: proxy.url } } });
    const before = proxy.requests.length;
    const result = await hostConnectIothubHttps.run(hubContext(settings));
    assert.deepEqual(result, {
      kind: 'ok',
      additionalInfo: {
        iothub_hostname: 'localhost',
        port_number: valid.port,
        proxy: `http://127.0.0.1:${proxy.port}`,
      },
    });
    assert.deepEqual(proxy.requests.slice(before), [`localhost:${valid.port}`]);
  });

  test('AMQP and MQTT ports never use the proxy', async () => {
    const settings = trusting({
      agent: { ...testSettings().agent, env: { https_proxy: refusingProxy.url } },
    });
    const result = await hostConnectIothubAmqp.run(hubContext(settings));
    assert.equal(result.kind, 'ok');
    assert.equal(result.additionalInfo?.proxy, null);
    assert.equal(refusingProxy.requests.length, 0);
  });

  test('--proxy-uri wins over agent.env.https_proxy', async () => {
    const settings = trusting({
      agent: { ...testSettings().agent, env: { https_proxy: refusingProxy.url } },
    });
    const result = await hostConnectIothubHttps.run(hubContext(settings, ports, proxy.url));
    assert.equal(result.kind, 'ok', JSON.stringify(result));
    assert.equal(refusingProxy.requests.length, 0);
  });

  test("a proxy's refusal fails with its status line and no password", async () => {
    const wrongPassword = `http://edge:not-the-password@127.0.0.1:${proxy.port}`;
    const result = await hostConnectIothubHttps.run(hubContext(trusting(), ports, wrongPassword));
    const { message, causes } = assertFailed(result);
    assert.equal(message, `Could not connect to localhost:${valid.port}`);
    assert.match(causes[0], /407 Proxy Authentication Required/);
    assert.doesNotMatch(JSON.stringify(result), /not-the-password/);
  });

  describe('DPS endpoint', () => {
    const dps = (globalEndpoint: string, overrides: Partial<Settings> = {}): Settings =>
      trusting({
        provisioning: {
          source: 'dps',
          dynamic_reprovisioning: false,
          global_endpoint: globalEndpoint,
          scope_id: '0ne00000000',
          attestation: { method: 'tpm', registration_id: 'edge' },
          always_reprovision_on_startup: true,
        },
        ...overrides,
      });
    const dpsContext = (settings: Settings, proxyUri?: string) =>
      testContext({ facts: { settings }, inputs: { proxyUri } });

    test('is ignored unless provisioning is dps', async () => {
      assert.equal((await hostConnectDpsEndpoint.run(dpsContext(trusting()))).kind, 'ignored');
    });

    test('connects to the host and port of global_endpoint', async () => {
      const endpoint = `https://localhost:${valid.port}`;
      const result = await hostConnectDpsEndpoint.run(dpsContext(dps(endpoint)));
      assert.deepEqual(result, {
        kind: 'ok',
        additionalInfo: { dps_endpoint: `${endpoint}/`, dps_hostname: 'localhost', proxy: null },
      });
    });

    test('through a proxy it asks for the host, not the whole URL', async () => {
      const before = proxy.requests.length;
      const result = await hostConnectDpsEndpoint.run(
        dpsContext(dps(`https://localhost:${valid.port}/`), proxy.url),
      );
      assert.equal(result.kind, 'ok', JSON.stringify(result));
      assert.deepEqual(proxy.requests.slice(before), [`localhost:${valid.port}`]);
    });

    test('fails when the endpoint refuses, naming the host without its port (as 1.1)', async () => {
      const result = await hostConnectDpsEndpoint.run(dpsContext(dps(`https://localhost:${refused}`)));
      const { message, causes } = assertFailed(result);
      assert.equal(message, 'Could not connect to localhost');
      assert.equal(causes[0], `connection refused by localhost:${refused}`);
    });

    test('a certificate problem is a failed TLS handshake with the host', async () => {
      const result = await hostConnectDpsEndpoint.run(dpsContext(dps(`https://localhost:${expired.port}`)));
      assert.deepEqual(assertFailed(result), {
        message: 'Could not connect to localhost : could not complete TLS handshake',
        causes: ['certificate has expired'],
      });
    });

    test('a host name that does not resolve says so', async () => {
      const result = await hostConnectDpsEndpoint.run(dpsContext(dps('https://dps.invalid:443')));
      const { message, causes } = assertFailed(result);
      assert.equal(message, 'Could not connect to dps.invalid : could not resolve hostname');
      assert.match(causes[0], /ENOTFOUND|EAI_AGAIN/);
    });

    test('fails on a global_endpoint that is not a URL', async () => {
      const result = await hostConnectDpsEndpoint.run(dpsContext(dps('not a url')));
      assert.match(assertFailed(result).message, /provisioning\.global_endpoint/);
    });
  });
});
