import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import {
  containerDefaultConnectIothubAmqpCheck,
  containerModuleConnectIothubHttpsCheck,
  containerModuleConnectIothubMqttCheck,
} from '../../src/checks/container/connect-iothub.js';
import { containerLocalTimeCheck } from '../../src/checks/container/local-time.js';
import { connectManagementUriCheck } from '../../src/checks/container/management-uri.js';
import type { DockerEngine } from '../../src/runtime/modules/docker/docker-engine.js';
import { RUN_LABEL, runDiagnostics } from '../../src/checks/support/run-diagnostics.js';
import type { CheckResult, Facts } from '../../src/checks/types.js';
import type { Settings } from '../../src/runtime/config/settings.js';
import { testPki, type TestPki } from '../helpers/certs.js';
import {
  buildFromDockerfile,
  removeImage,
  sharedDiagnosticsImage,
  testEngine,
  uniqueName,
} from '../helpers/docker.js';
import { testContext, testSettings } from '../helpers/check-context.js';
import { startConnectProxy } from '../helpers/proxy-server.js';
import { closedPort, startSilentServer, startTlsServer, type TestServer } from '../helpers/tls-servers.js';

const { engine, skip } = await testEngine();
const fakeClockImage = uniqueName('iotedge-ts-test-fake-clock');
let image: string;
let dir: string;
let pki: TestPki;
let hub: TestServer;
let caFile: string;

before(async () => {
  if (!engine) return;
  image = await sharedDiagnosticsImage(engine);
  dir = await mkdtemp(join(tmpdir(), 'iotedge-container-checks-'));
  pki = testPki();
  hub = await startTlsServer(pki.server);
  caFile = join(dir, 'trusted-ca.pem');
  await writeFile(caFile, pki.ca.cert);
});

after(async () => {
  if (!engine) return;
  await hub?.close();
  await removeImage(engine, fakeClockImage);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const message = (result: CheckResult) => ('message' in result ? result.message : '');
const causes = (result: CheckResult) => ('causes' in result ? (result.causes ?? []) : []);
/** Message and causes on one line, for assertion failures. */
const details = (result: CheckResult) => `${message(result)} ${causes(result).join(' | ')}`;

function context(options: {
  settings?: Partial<Settings>;
  facts?: Partial<Facts>;
  port?: number;
  env?: NodeJS.ProcessEnv;
}) {
  const port = options.port ?? hub.port;
  return testContext({
    facts: {
      settings: testSettings({ moby_runtime: { uri: engine!.uri, network: 'host' }, ...options.settings }),
      docker: engine as DockerEngine,
      diagnosticsImage: image,
      iothubHostname: 'localhost',
      ...options.facts,
    },
    inputs: { hubPorts: { amqp: port, https: port, mqtt: port }, env: options.env ?? {} },
    signal: AbortSignal.timeout(60_000),
  });
}

const trusted = () => ({ certificates: { trusted_ca_certs: caFile, auto_generated_ca_lifetime_days: 90 } });
/** Settings whose management endpoint is `uri`. */
const managementAt = (uri: string): Partial<Settings> => ({
  connect: { management_uri: uri, workload_uri: 'unix:///var/run/iotedge/workload.sock' },
});

test('container-local-time: the container clock agrees with the host', { skip }, async () => {
  const result = await containerLocalTimeCheck.run(context({}));
  assert.equal(result.kind, 'ok', message(result));
  assert.ok((result.additionalInfo?.diff as number) < 10);
});

test('container-local-time: a container clock 10 s or more off fails', { skip }, async () => {
  await buildFromDockerfile(
    engine!,
    fakeClockImage,
    `FROM ${image}\nENTRYPOINT ${JSON.stringify([process.execPath, '-e', 'console.log(1000)'])}\n`,
  );
  const result = await containerLocalTimeCheck.run(context({ facts: { diagnosticsImage: fakeClockImage } }));
  assert.equal(result.kind, 'failed');
  assert.equal(message(result), 'Detected time drift between host and container');
  assert.deepEqual(result.additionalInfo?.actual_duration, { secs: 1000, nanos: 0 });
});

async function managementServer(socketPath: string, status: number): Promise<Server & { seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(status).end('[]');
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return Object.assign(server, { seen });
}

test('connect-management-uri: ok when the socket bound into a container answers', { skip }, async () => {
  const socketPath = join(dir, 'mgmt-ok.sock');
  const server = await managementServer(socketPath, 200);
  try {
    const settings = {
      ...managementAt(`unix://${socketPath}`),
      agent: { ...testSettings().agent, env: { SECRET_SETTING: 'do-not-print-me' } },
    };
    const result = await connectManagementUriCheck.run(context({ settings }));
    assert.equal(result.kind, 'ok', details(result));
    assert.deepEqual(server.seen, ['GET /modules?api-version=2020-07-07']);
    assert.ok(!JSON.stringify(result).includes('do-not-print-me'));
  } finally {
    server.close();
  }
});

test(
  'connect-management-uri: fails with the container reason when the endpoint answers 500',
  { skip },
  async () => {
    const socketPath = join(dir, 'mgmt-500.sock');
    const server = await managementServer(socketPath, 500);
    try {
      const result = await connectManagementUriCheck.run(
        context({ settings: managementAt(`unix://${socketPath}`) }),
      );
      assert.equal(result.kind, 'failed');
      assert.match(message(result), /answered GET \/modules with HTTP status 500/);
    } finally {
      server.close();
    }
  },
);

test(
  'connect-management-uri: a missing socket fails without creating anything in its place',
  { skip },
  async () => {
    const socketPath = join(dir, 'absent.sock');
    const result = await connectManagementUriCheck.run(
      context({ settings: managementAt(`unix://${socketPath}`) }),
    );
    assert.equal(result.kind, 'failed');
    assert.ok(message(result).includes(`${socketPath} does not exist`), message(result));
  },
);

test('connect-management-uri: mismatched schemes fail', { skip }, async () => {
  const result = await connectManagementUriCheck.run(
    context({ settings: managementAt('http://127.0.0.1:1') }),
  );
  assert.equal(result.kind, 'failed');
  assert.match(message(result), /invalid combination of schemes .*\("http"\).*\("fd"\)/);
});

test(
  'connect-management-uri: an http endpoint is reached on the default network (here: host)',
  { skip },
  async () => {
    const server = createServer((_req, res) => res.writeHead(200).end('[]'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const uri = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const settings = {
        ...managementAt(uri),
        listen: { management_uri: uri, workload_uri: 'fd://iotedge.socket' },
      };
      const result = await connectManagementUriCheck.run(
        context({ settings, env: { IOTEDGE_CHECK_DEFAULT_NETWORK: 'host' } }),
      );
      assert.equal(result.kind, 'ok', details(result));
    } finally {
      server.close();
    }
  },
);

test(
  'container-module-connect-iothub: a hub signed by trusted_ca_certs is reached on the module network',
  { skip },
  async () => {
    const result = await containerModuleConnectIothubMqttCheck.run(context({ settings: trusted() }));
    assert.equal(result.kind, 'ok', details(result));
    assert.deepEqual(result.additionalInfo, {
      port_number: hub.port,
      iothub_hostname: 'localhost',
      network_name: 'host',
      diagnostics_image_name: image,
      proxy: null,
    });
  },
);

test(
  'container-default-connect-iothub: IOTEDGE_CHECK_DEFAULT_NETWORK names the default network',
  { skip },
  async () => {
    const env = { IOTEDGE_CHECK_DEFAULT_NETWORK: 'host' };
    const result = await containerDefaultConnectIothubAmqpCheck.run(context({ settings: trusted(), env }));
    assert.equal(result.kind, 'ok', details(result));
    assert.equal(result.additionalInfo?.network_name, 'host');
  },
);

test(
  'container-default-connect-iothub: an untrusted hub certificate fails with the reason as cause',
  { skip },
  async () => {
    const env = { IOTEDGE_CHECK_DEFAULT_NETWORK: 'host' };
    const result = await containerDefaultConnectIothubAmqpCheck.run(context({ env }));
    assert.equal(result.kind, 'failed');
    assert.equal(
      message(result),
      `Container on the default network could not connect to localhost:${hub.port}`,
    );
    assert.match(causes(result)[0], /could not complete TLS handshake/);
  },
);

test('container-module-connect-iothub: a closed port fails', { skip }, async () => {
  const port = await closedPort();
  const result = await containerModuleConnectIothubMqttCheck.run(context({ settings: trusted(), port }));
  assert.equal(result.kind, 'failed');
  assert.equal(message(result), `Container on the host network could not connect to localhost:${port}`);
  assert.match(causes(result)[0], /connection refused/);
});

test('container-module-connect-iothub: a module network that does not exist fails', { skip }, async () => {
  const network = uniqueName('iotedge-test-absent-network');
  const settings = { ...trusted(), moby_runtime: { uri: engine!.uri, network } };
  const result = await containerModuleConnectIothubMqttCheck.run(context({ settings }));
  assert.equal(result.kind, 'failed');
  assert.equal(
    message(result),
    `Container on the ${network} network could not connect to localhost:${hub.port}`,
  );
  assert.ok(
    causes(result).some((cause) => cause.includes(network)),
    causes(result).join(' | '),
  );
});

test(
  'container-module-connect-iothub-https: goes through agent.env.https_proxy, never showing its password',
  { skip },
  async () => {
    const proxy = await startConnectProxy({ auth: { username: 'edge', password: 'pr0xy-secret' } });
    try {
      const settings = {
        ...trusted(),
        agent: { ...testSettings().agent, env: { https_proxy: proxy.url } },
      };
      const result = await containerModuleConnectIothubHttpsCheck.run(context({ settings }));
      assert.equal(result.kind, 'ok', details(result));
      assert.deepEqual(proxy.requests, [`localhost:${hub.port}`]);
      assert.equal(result.additionalInfo?.proxy, `http://127.0.0.1:${proxy.port}`);
      assert.ok(!JSON.stringify(result).includes('pr0xy-secret'));
    } finally {
      await proxy.close();
    }
  },
);

test('runDiagnostics: an aborted run rejects and leaves no container behind', { skip }, async () => {
  const silent = await startSilentServer();
  const marker = `IOTEDGE_TEST_MARKER=${uniqueName('abort')}`;
  const controller = new AbortController();
  try {
    const run = runDiagnostics(
      engine!,
      image,
      ['iothub', '--hostname', '127.0.0.1', '--port', String(silent.port)],
      {
        network: 'host',
        env: [marker],
        signal: controller.signal,
      },
    );
    const deadline = Date.now() + 20_000;
    while (silent.accepted() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(silent.accepted(), 1, 'the container connected');
    controller.abort(new Error('test abort'));
    await assert.rejects(run, /test abort/);
    const left = await engine!.client.listContainers({ all: true, filters: { label: [RUN_LABEL] } });
    for (const container of left) {
      const inspect = await engine!.client
        .getContainer(container.Id)
        .inspect()
        .catch(() => undefined);
      assert.ok(!inspect?.Config.Env?.includes(marker), 'the aborted container was removed');
    }
  } finally {
    await silent.close();
  }
});
