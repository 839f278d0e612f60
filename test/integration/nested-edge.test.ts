import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { edgeHubModuleKey } from '../../src/runtime/identity/module-keys.js';
import { buildSasToken } from '../../src/runtime/identity/sas.js';
import { ROOT, TestDaemon, eventually, nodeModule } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import {
  childDaemon,
  cleanupDaemons,
  nestedDeployment as deployment,
  recorded,
  rootCaOf,
} from '../helpers/nested.js';
import { connackCode, mqttAddress, type HubEndpoint } from '../helpers/mqtt-client.js';

/** Messages the child's module sends through the child's hub to the parent's module. */
const COUNT = 3000;
const IOTHUB = 'hub.example.net';

/** Messages the child's `$upstream` holds, from `iotedge system status --json`. */
async function upstreamQueue(daemon: TestDaemon): Promise<number> {
  const status = JSON.parse(daemon.cli(['system', 'status', '--json']).stdout) as {
    queues?: { endpoint: string; messages: number }[];
  };
  return status.queues?.find((queue) => queue.endpoint === '$upstream')?.messages ?? 0;
}

describe('nested edge: a child edge device sends upstream through its parent', () => {
  const parent = new TestDaemon({}, [], 'localhost');
  let child: TestDaemon | undefined;
  let parentPort = 0;
  const records = path.join(parent.dir, 'received.txt');
  const parentDeployment = () =>
    deployment(
      { recorder: nodeModule('upstream-recorder.js', [records]) },
      {
        fromChild: `FROM /messages/* WHERE $connectionDeviceId = 'child-1' INTO BrokeredEndpoint("/modules/recorder/inputs/in1")`,
        fromLeaf: `FROM /messages WHERE $connectionDeviceId = 'sensor7' INTO BrokeredEndpoint("/modules/recorder/inputs/in1")`,
      },
      parentPort,
    );
  let childKey = '';
  let endpoint: HubEndpoint;

  before(async () => {
    parentPort = await freePort();
    await parent.start();
    const posted = await parent.request('POST', '/deployment', parentDeployment());
    assert.equal(posted.status, 200, posted.body);
    const added = parent.cli(['identity', 'add', 'child-1', '--edge', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const created = JSON.parse(added.stdout) as {
      connectionString: string;
      primaryKey: string;
      edge: boolean;
    };
    assert.equal(created.edge, true);
    assert.doesNotMatch(
      created.connectionString,
      /GatewayHostName/,
      'a child dials its parent by parent_hostname',
    );
    childKey = created.primaryKey;
    const second = parent.cli(['identity', 'add', 'child-2', '--edge']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stdout,
      new RegExp(
        `^Added edge device child-2 \\(SAS; .*\\), a child of this device\\. Its connection string, for its config\\.yaml ` +
          `\\(with parent_hostname: localhost:${parentPort}\\):\\nHostName=${IOTHUB.replace(/\./g, '\\.')};DeviceId=child-2;SharedAccessKey=[^;\\n]+\\n$`,
      ),
    );
    endpoint = {
      host: '127.0.0.1',
      port: parentPort,
      hostname: 'localhost',
      ca: readFileSync(rootCaOf(parent), 'utf8'),
    };

    child = childDaemon(parent, parentPort, created.connectionString);
    await child.start();
  });

  after(async () => {
    await cleanupDaemons(child, parent);
  });

  test("the parent refuses an auth-chain outside the actor's scope and a bad token, and accepts a good one", async () => {
    const token = (key: string) =>
      buildSasToken({
        audience: `${IOTHUB}/devices/child-1/modules/$edgeHub`,
        key: edgeHubModuleKey(key),
        expiry: Math.floor(Date.now() / 1000) + 600,
      });
    const onBehalf = (clientId: string, chain: string, password: string) => ({
      clientId,
      username: `${IOTHUB}/${clientId}/?api-version=2018-06-30&auth-chain=${encodeURIComponent(chain)}`,
      password,
    });
    const good = token(childKey);
    const wrongKey = token(Buffer.alloc(32, 5).toString('base64'));
    assert.equal(await connackCode(endpoint, onBehalf('child-1/probe', 'child-1/probe;child-1', good)), 0);
    assert.equal(await connackCode(endpoint, onBehalf('child-2/probe', 'child-2/probe;child-1', good)), 5);
    assert.equal(
      await connackCode(endpoint, onBehalf('child-1/probe', 'child-1/probe;child-1', wrongKey)),
      5,
    );
    assert.equal(await connackCode(endpoint, onBehalf('child-1/probe', 'child-2/probe;child-1', good)), 5);
    assert.match(
      parent.output,
      /refused "?child-2\/probe"?: child-2\/probe: child-2\/probe is not in the scope of child-1/,
    );
    assert.doesNotMatch(parent.output, /sig=/, 'no token in the log');
  });

  test('thousands of messages reach the parent module through SIGKILLs of the parent and of the child, in order', async () => {
    const running = child!;
    // the child's hub keeps its port across the child's restart: its SDK module reconnects there
    const childPort = await freePort();
    const sending = await running.request(
      'POST',
      '/deployment',
      deployment(
        { sender: nodeModule('upstream-sender.js', [String(COUNT), '10', '10']) },
        { up: 'FROM /messages/modules/sender/* INTO $upstream' },
        childPort,
      ),
    );
    assert.equal(sending.status, 200, sending.body);

    await eventually(
      async () => (recorded(records).length >= COUNT / 5 ? true : undefined),
      'a fifth to arrive',
      60_000,
    );
    const beforeKill = recorded(records).length;
    await parent.signal('SIGKILL');
    const offline = await eventually(async () => {
      const report = (
        JSON.parse(running.cli(['system', 'status', '--json']).stdout) as {
          upstream?: { connected: boolean; lastError?: string };
        }
      ).upstream;
      return report && !report.connected ? report : undefined;
    }, 'the child to notice its parent is gone');
    assert.ok(offline.lastError, 'the last error is shown');
    assert.match(
      running.cli(['system', 'status']).stdout,
      /Upstream: MQTT to .*, offline since .*; last error: /,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // the child dies too while its parent is away: what it holds for $upstream is in its store
    const heldAtKill = await upstreamQueue(running);
    await running.signal('SIGKILL');
    await running.start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await parent.start();
    const stillDeployed = await parent.json<{ systemModules: { edgeHub: { runtimeStatus: string } } }>(
      'GET',
      '/deployment/status',
    );
    if (stillDeployed.systemModules?.edgeHub?.runtimeStatus !== 'running') {
      const posted = await parent.request('POST', '/deployment', parentDeployment());
      assert.equal(posted.status, 200, posted.body);
    }

    const started = Date.now();
    const all = await eventually(
      async () => {
        const seqs = recorded(records);
        return new Set(seqs).size >= COUNT ? seqs : undefined;
      },
      `all ${COUNT} messages to arrive`,
      180_000,
    );
    const firsts: number[] = [];
    const seen = new Set<number>();
    for (const seq of all) {
      if (seen.has(seq)) continue;
      seen.add(seq);
      firsts.push(seq);
    }
    assert.deepEqual(
      firsts,
      Array.from({ length: COUNT }, (_, i) => i),
      'every message arrived once at least, first arrivals in the order sent',
    );
    assert.ok(heldAtKill > 0, 'the child held messages for $upstream when it was killed');
    console.log(
      `# nested edge: ${beforeKill} arrived before the parent's SIGKILL, the child held ${heldAtKill} when it was killed; all ${COUNT} ${((Date.now() - started) / 1000).toFixed(1)} s after its restart; ${all.length - COUNT} duplicates`,
    );

    const upstream = await eventually(async () => {
      const now = running.cli(['system', 'status', '--json']);
      const report = (
        JSON.parse(now.stdout) as { upstream?: { connected: boolean; target: string; kind: string } }
      ).upstream;
      return report?.connected ? report : undefined;
    }, 'the child to report its upstream connected');
    assert.deepEqual(
      { target: upstream.target, kind: upstream.kind },
      { target: `127.0.0.1:${parentPort}`, kind: 'parent' },
    );
    const text = running.cli(['system', 'status']);
    assert.match(
      text.stdout,
      new RegExp(
        `Upstream: MQTT to 127\\.0\\.0\\.1:${parentPort} \\(parent edge device\\), connected since `,
      ),
    );
  });

  test('a leaf device below the child goes up as itself; one the parent does not know is dropped, counted', async () => {
    const running = child!;
    const key = Buffer.alloc(32, 11).toString('base64');
    const onParent = parent.cli(['identity', 'add', 'sensor7', '--parent', 'child-1', '--key', key]);
    assert.equal(onParent.code, 0, onParent.stderr);
    assert.match(onParent.stdout, /below edge device child-1; register it there too/);
    const routed = await running.request(
      'POST',
      '/deployment',
      deployment({}, { leaves: 'FROM /messages WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream' }),
    );
    assert.equal(routed.status, 200, routed.body);
    await eventually(async () => ((await mqttAddress(running)).port > 0 ? true : undefined), 'the child hub');
    const leafOutput = async (deviceId: string, leafKey: string | undefined, count: number) => {
      const added = running.cli([
        'identity',
        'add',
        deviceId,
        ...(leafKey ? ['--key', leafKey] : []),
        '--json',
      ]);
      assert.equal(added.code, 0, added.stderr);
      const { connectionString } = JSON.parse(added.stdout) as { connectionString: string };
      const leaf = spawn(process.execPath, [path.join(ROOT, 'test/fixtures/leaf-device.js'), String(count)], {
        env: {
          ...process.env,
          LEAF_CS: connectionString,
          LEAF_CA: rootCaOf(running),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      leaf.stdout.on('data', (chunk) => (output += chunk));
      leaf.stderr.on('data', (chunk) => (output += chunk));
      try {
        await eventually(
          async () => (output.includes(`sent ${count}`) ? true : undefined),
          `${deviceId} to send`,
        );
      } finally {
        leaf.kill('SIGKILL');
      }
    };
    await leafOutput('stranger', undefined, 3);
    await leafOutput('sensor7', key, 5);

    const leafLines = await eventually(async () => {
      const lines = readFileSync(records, 'utf8')
        .split('\n')
        .filter((line) => line.includes('"from":"leaf"'));
      return lines.length >= 5 ? lines : undefined;
    }, "sensor7's messages at the parent");
    assert.deepEqual(
      leafLines.map((line) => line.split(' ')[0]),
      ['0', '1', '2', '3', '4'],
      'only sensor7 (in the child scope on the parent) arrives',
    );
    const report = (
      JSON.parse(running.cli(['system', 'status', '--json']).stdout) as {
        upstream: { connected: boolean; refused: number };
      }
    ).upstream;
    assert.equal(report.refused, 3, "the stranger's three messages were refused by the parent and dropped");
    assert.equal(report.connected, true, 'the link stays up');
    assert.match(
      running.output,
      /refused stranger \(Connection refused: Not authorized\); its messages are dropped/,
    );
    assert.match(parent.output, /refused stranger: stranger: stranger is not in the scope of child-1/);
  });

  test('a parent that stops answering (SIGSTOP) is noticed by the keepalive; the link comes back after SIGCONT', async () => {
    const running = child!;
    const upstream = () =>
      (JSON.parse(running.cli(['system', 'status', '--json']).stdout) as { upstream: { connected: boolean } })
        .upstream;
    assert.equal(upstream().connected, true);
    parent.process!.kill('SIGSTOP');
    try {
      // keepalive 2 s in this test: a ping unanswered by the next one ends the connection
      await eventually(async () => (upstream().connected ? undefined : true), 'the child to notice', 15_000);
    } finally {
      parent.process!.kill('SIGCONT');
    }
    await eventually(async () => (upstream().connected ? true : undefined), 'the link to come back', 90_000);
  });
});
