import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, manifest } from '../helpers/daemon.js';
import { DOCKER_URI, removeContainer, removeImage, testEngine } from '../helpers/docker.js';
import {
  expectSdkExchange,
  moduleLogs,
  sdkDeployment,
  type SdkTransport,
} from '../helpers/sdk-deployment.js';
import { buildSdkModuleImage, SDK_MODULE_IMAGE } from '../helpers/sdk-module-image.js';
import { holdTestLock } from '../helpers/test-lock.js';

const { engine, skip } = await testEngine();

/** A module entry running the SDK module image in a container on the host's network. */
const containerModule = (cmd: string[], fields: Record<string, unknown> = {}) => ({
  type: 'docker',
  status: 'running',
  restartPolicy: 'always',
  imagePullPolicy: 'never',
  settings: {
    image: SDK_MODULE_IMAGE,
    createOptions: JSON.stringify({ Cmd: cmd, HostConfig: { NetworkMode: 'host' } }),
  },
  ...fields,
});

/** The two SDK modules in containers; the image's first argument chooses the SDK transport. */
const deployment = (desired: Record<string, unknown>, transport: SdkTransport = 'mqtt') =>
  sdkDeployment(
    {
      receiver: containerModule([transport, 'receiver']),
      sender: containerModule([transport, 'sender', '5', 'receiver'], { startupOrder: 1 }),
    },
    desired,
    transport,
  );

/** Signs with the module's key from inside its container, through the socket the runtime bound there. */
const SIGN_FROM_INSIDE = `
const http = require('node:http');
const { IOTEDGE_WORKLOADURI: uri, IOTEDGE_MODULEID: id, IOTEDGE_MODULEGENERATIONID: genid } = process.env;
const request = http.request(
  { socketPath: new URL(uri).pathname, method: 'POST', headers: { 'content-type': 'application/json' },
    path: '/modules/' + id + '/genid/' + genid + '/sign?api-version=2019-01-30' },
  (response) => {
    let text = '';
    response.on('data', (chunk) => (text += chunk));
    response.on('end', () => console.log(response.statusCode + ' ' + text));
  });
request.on('error', (error) => console.log('error ' + error.message));
request.end(JSON.stringify({ keyId: 'primary', algo: 'HMACSHA256', data: Buffer.from('hello').toString('base64') }));
`;

describe('SDK modules in Docker containers talk through the hub', { skip }, () => {
  const daemon = new TestDaemon(
    {},
    ['moby_runtime:', `  uri: ${DOCKER_URI}`, '  network: host'],
    'localhost',
  );
  const { logs, logged } = moduleLogs(daemon);
  const releases: (() => Promise<void>)[] = [];

  /** Runs `node -e script` inside the module's container; resolves with what it printed. */
  async function execNode(module: string, script: string): Promise<string> {
    const exec = await engine!.client.getContainer(module).exec({
      Cmd: [process.execPath, '-e', script],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const output = new PassThrough();
    let text = '';
    output.on('data', (chunk: Buffer) => (text += chunk.toString()));
    engine!.client.modem.demuxStream(stream, output, output);
    await new Promise((resolve) => stream.on('end', resolve));
    return text.trim();
  }

  const inspect = (module: string) => engine!.client.getContainer(module).inspect();

  before(async () => {
    releases.push(await holdTestLock('docker-agent'), await holdTestLock('iothub-ports'));
    await Promise.all(['receiver', 'sender'].map((name) => removeContainer(engine!, name)));
    await buildSdkModuleImage(engine!);
    await daemon.start();
  });
  after(async () => {
    if (process.env.DEBUG_DAEMON) console.log(daemon.output, logs('sender'), logs('receiver'));
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await daemon.cleanup();
    await Promise.all(['receiver', 'sender'].map((name) => removeContainer(engine!, name)));
    await removeImage(engine!, SDK_MODULE_IMAGE);
    for (const release of releases.reverse()) await release();
  });

  test('the container gets its workload directory bound and the URI where it is bound', async () => {
    const result = await daemon.request('POST', '/deployment', deployment({ threshold: 5 }));
    assert.equal(result.status, 200, result.body);
    const receiver = await inspect('receiver');
    assert.ok(
      receiver.Config.Env.includes('IOTEDGE_WORKLOADURI=unix:///var/run/iotedge/workload.sock'),
      receiver.Config.Env.join('\n'),
    );
    assert.deepEqual(receiver.HostConfig.Binds, [`${daemon.homedir}/mnt/receiver:/var/run/iotedge`]);
  });

  test('output → route with a $body condition → input; twin; direct method between containers', async () => {
    await expectSdkExchange(daemon);
  });

  test('after iotedged is killed and restarts, the running containers work again without being recreated', async () => {
    const before = await Promise.all(['receiver', 'sender'].map(inspect));
    await daemon.signal('SIGKILL');
    await daemon.start();

    // the workload socket the new daemon made is the one the running container sees
    const signed = await execNode('receiver', SIGN_FROM_INSIDE);
    assert.match(signed, /^200 \{"digest":"[A-Za-z0-9+/=]+"\}$/);

    // the SDK client reconnected: a desired change reaches it, and it answers a method
    const result = await daemon.request('POST', '/deployment', deployment({ threshold: 9 }));
    assert.equal(result.status, 200, result.body);
    await logged('receiver', /desired \{"threshold":9,"\$version":\d+\}/);
    const invoked = daemon.cli(['invoke', 'receiver', 'ping', '--payload', '{"after":"restart"}']);
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.deepEqual(JSON.parse(invoked.stdout), {
      status: 200,
      payload: { pong: { after: 'restart' }, from: 'receiver' },
    });

    const now = await Promise.all(['receiver', 'sender'].map(inspect));
    for (const [index, container] of now.entries()) {
      assert.equal(container.Id, before[index]!.Id, `${container.Name} was not recreated`);
      assert.equal(
        container.State.StartedAt,
        before[index]!.State.StartedAt,
        `${container.Name} kept running`,
      );
    }
  });

  // the same exchange over the SDK's other transports: the containers are made again with the
  // transport as their first argument, and reach the hub on 5671 (Amqp) or 443 (MqttWs, AmqpWs)
  for (const transport of ['amqp', 'amqpws', 'mqttws'] as const) {
    test(`over ${transport}: output → route → input; twin; direct methods between containers and from iotedge`, async () => {
      const result = await daemon.request('POST', '/deployment', deployment({ threshold: 5 }, transport));
      assert.equal(result.status, 200, result.body);
      const receiver = await inspect('receiver');
      assert.deepEqual(receiver.Config.Cmd, [transport, 'receiver']);
      assert.ok(
        receiver.Config.Env.includes('IOTEDGE_GATEWAYHOSTNAME=localhost'),
        receiver.Config.Env.join('\n'),
      );
      await expectSdkExchange(daemon);
      const invoked = daemon.cli(['invoke', 'receiver', 'ping', '--payload', `{"over":"${transport}"}`]);
      assert.equal(invoked.code, 0, invoked.stderr);
      assert.deepEqual(JSON.parse(invoked.stdout), {
        status: 200,
        payload: { pong: { over: transport }, from: 'receiver' },
      });
      const changed = await daemon.request('POST', '/deployment', deployment({ threshold: 6 }, transport));
      assert.equal(changed.status, 200, changed.body);
      await logged('receiver', /desired \{"threshold":6,"\$version":\d+\}/);
    });
  }
});
