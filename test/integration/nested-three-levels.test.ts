import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, hubListening, nodeModule } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import {
  childDaemon,
  cleanupDaemons,
  expectLeafReachedFromParent,
  expectPingAnswered,
  expectReportedRunning,
  nestedDeployment as deployment,
  recorded,
  runningModules,
  upstreamOf,
  writeManifest,
} from '../helpers/nested.js';

/** Messages the bottom device's SDK module sends. */
const COUNT = 5;

/** Registers `id` on `daemon` (`identity add ID --edge` and the flags given); its connection string. */
function addEdgeDevice(daemon: TestDaemon, id: string, flags: string[] = []): string {
  const added = daemon.cli(['identity', 'add', id, '--edge', ...flags, '--json']);
  assert.equal(added.code, 0, added.stderr);
  return (JSON.parse(added.stdout) as { connectionString: string }).connectionString;
}

/**
 * Three layers on one machine: `top` has no parent (the authority, with every registration),
 * `middle` is its child and `bottom` the middle's child. Both children get their deployment from
 * the top (`iotedge deploy --device`), the bottom's through the middle, and learn the devices in
 * their scope from the layer above: the middle is told of the bottom by the top. The bottom's
 * deployment switches it to AMQP upstream; the middle speaks MQTT to the top.
 */
describe('nested edge, three layers: top, middle and bottom edge devices', () => {
  const top = new TestDaemon({}, [], 'localhost');
  let middle: TestDaemon | undefined;
  let bottom: TestDaemon | undefined;
  const records = path.join(top.dir, 'received.txt');
  let bottomMqtt = 0;
  const leafKey = Buffer.alloc(32, 9).toString('base64');

  before(async () => {
    const [topMqtt, topHttps, middleMqtt, middleHttps, middleAmqp] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    bottomMqtt = await freePort();
    await top.start();
    // only the bottom's sensor, by its own identity, reaches the recorder
    const posted = await top.request(
      'POST',
      '/deployment',
      deployment(
        { recorder: nodeModule('upstream-recorder.js', [records]) },
        {
          fromBottom: `FROM /messages/modules/sensor/outputs/out1 WHERE $connectionDeviceId = 'bottom' AND $connectionModuleId = 'sensor' INTO BrokeredEndpoint("/modules/recorder/inputs/in1")`,
        },
        { mqtt: topMqtt, https: topHttps },
      ),
    );
    assert.equal(posted.status, 200, posted.body);
    const middleString = addEdgeDevice(top, 'middle');

    const toMiddle = top.cli([
      'deploy',
      '--device',
      'middle',
      writeManifest(
        top,
        deployment(
          {},
          { up: 'FROM /messages/* INTO $upstream' },
          { mqtt: middleMqtt, https: middleHttps, amqp: middleAmqp },
        ),
      ),
    ]);
    assert.equal(toMiddle.code, 0, toMiddle.stderr);
    middle = childDaemon(top, topMqtt, middleString);
    middle.env.IOTEDGE_PARENT_HTTPS_PORT = String(topHttps);
    await middle.start();
    await hubListening(middle, new RegExp(`:${middleMqtt}\\b`), "the middle's hub on its port");
    // registered on the top alone, once the middle runs: the middle learns it from its device scope
    // when the bottom first connects
    const bottomString = addEdgeDevice(top, 'bottom', ['--parent', 'middle']);
    // and a leaf device below the bottom, which the bottom learns from the middle
    const leaf = top.cli(['identity', 'add', 'sensor9', '--parent', 'bottom', '--key', leafKey]);
    assert.equal(leaf.code, 0, leaf.stderr);
    const toBottom = top.cli([
      'deploy',
      '--device',
      'bottom',
      writeManifest(
        top,
        deployment(
          { sensor: nodeModule('sdk-module.js', ['sender', String(COUNT)]) },
          { up: 'FROM /messages/modules/sensor/* INTO $upstream' },
          { mqtt: bottomMqtt, https: 0 },
          'Amqp',
        ),
      ),
    ]);
    assert.equal(toBottom.code, 0, toBottom.stderr);

    bottom = childDaemon(middle, middleMqtt, bottomString);
    bottom.env.IOTEDGE_PARENT_HTTPS_PORT = String(middleHttps);
    bottom.env.IOTEDGE_PARENT_AMQP_PORT = String(middleAmqp);
    await bottom.start();
  });

  after(async () => {
    await cleanupDaemons(bottom, middle, top);
  });

  test("a deployment made at the top for the bottom runs there, and the bottom's agent reports it up to the top", async () => {
    const running = bottom!;
    await eventually(
      async () => (runningModules(running).join() === 'sensor' ? true : undefined),
      'the sensor running on the bottom',
      30_000,
    );
    assert.match(running.cli(['deploy', '--status']).stderr, /^Deployment source: upstream; /m);
    await expectReportedRunning(top, 'bottom', 'sensor');
  });

  test("the bottom's SDK module's messages reach the top's module as its own identity, through the middle", async () => {
    const seqs = await eventually(
      async () => {
        const arrived = [...new Set(recorded(records))];
        return arrived.length >= COUNT ? arrived : undefined;
      },
      `the sensor's ${COUNT} messages at the top`,
      30_000,
    );
    assert.deepEqual(
      seqs,
      Array.from({ length: COUNT }, (_, seq) => seq),
    );
    assert.equal(upstreamOf(bottom!)?.protocol, 'AMQP', 'the bottom to the middle');
    assert.equal(upstreamOf(middle!)?.protocol, 'MQTT', 'the middle to the top');
  });

  test("a direct method from the top reaches the bottom's SDK module", async () => {
    await expectPingAnswered(top, 'bottom/sensor', { depth: 3 });
  });

  test('a leaf device registered at the top below the bottom connects to the bottom and is reached from the top', async () => {
    const running = bottom!;
    await expectLeafReachedFromParent(
      top,
      running,
      'sensor9',
      `HostName=hub.example.net;DeviceId=sensor9;SharedAccessKey=${leafKey};GatewayHostName=localhost:${bottomMqtt}`,
    );
    // the bottom asked the middle for its scope at start: the middle, not knowing the bottom yet,
    // asked the top first instead of refusing it
    const logs = running.cli(['system', 'logs']).stdout;
    assert.match(logs, /device scope \(at start\): 1 identities from the parent, new: sensor9/);
    assert.doesNotMatch(logs, /cannot refresh from the parent/);
  });
});
