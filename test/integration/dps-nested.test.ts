import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, nodeModule } from '../helpers/daemon.js';
import { testPki } from '../helpers/certs.js';
import { dpsDaemon, provisioningState } from '../helpers/dps-daemon.js';
import { LocalDps } from '../helpers/dps-server.js';
import { freePort } from '../helpers/free-port.js';
import { cleanupDaemons, nestedDeployment as deployment, recorded, rootCaOf } from '../helpers/nested.js';

const COUNT = 50;
const CHILD = 'edge-from-dps';
const MOVED = 'edge-moved';

describe('end to end: DPS assigns a child edge device to its parent, and the child sends telemetry through it', () => {
  const pki = testPki();
  const dps = new LocalDps('0ne00000E2E', pki.server);
  const parent = new TestDaemon({}, [], 'localhost');
  let child: TestDaemon | undefined;
  const records = path.join(parent.dir, 'received.txt');
  let parentPort = 0;
  let childKey = '';

  before(async () => {
    parentPort = await freePort();
    await Promise.all([dps.start(), parent.start()]);
    const posted = await parent.request(
      'POST',
      '/deployment',
      deployment(
        { recorder: nodeModule('upstream-recorder.js', [records]) },
        {
          fromChild: `FROM /messages/* WHERE $connectionDeviceId = '${CHILD}' INTO BrokeredEndpoint("/modules/recorder/inputs/in1")`,
        },
        parentPort,
      ),
    );
    assert.equal(posted.status, 200, posted.body);
    // the child's identity on its parent; DPS hands the child the parent as its hub
    const added = parent.cli(['identity', 'add', CHILD, '--edge', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const { primaryKey } = JSON.parse(added.stdout) as { primaryKey: string };
    childKey = primaryKey;
    dps.enrollments.set('child-registration', { key: primaryKey, assignedHub: 'localhost', deviceId: CHILD });
    child = dpsDaemon(dps, {
      attestation: [
        '    method: symmetric_key',
        '    registration_id: child-registration',
        `    symmetric_key: ${primaryKey}`,
      ],
      trustedCas: [pki.ca.cert, readFileSync(rootCaOf(parent), 'utf8')],
      extraYaml: [`parent_hostname: 127.0.0.1:${parentPort}`],
      dynamicReprovisioning: true,
    });
    child.env.IOTEDGE_UPSTREAM_KEEPALIVE_SECS = '2';
  });

  after(async () => {
    await cleanupDaemons(child, parent);
    await dps.close();
  });

  test('a freshly provisioned child delivers its module messages to the parent module', async () => {
    const running = child!;
    await running.start();
    assert.deepEqual(provisioningState(running), {
      status: 'provisioned',
      source: 'dps',
      deviceId: CHILD,
      iothubHostname: 'localhost',
    });
    const sending = await running.request(
      'POST',
      '/deployment',
      deployment(
        { sender: nodeModule('upstream-sender.js', [String(COUNT), '10', '10']) },
        { up: 'FROM /messages/modules/sender/* INTO $upstream' },
        await freePort(),
      ),
    );
    assert.equal(sending.status, 200, sending.body);
    const seqs = await eventually(
      async () => (new Set(recorded(records)).size >= COUNT ? recorded(records) : undefined),
      `all ${COUNT} messages at the parent`,
      90_000,
    );
    assert.deepEqual(
      [...new Set(seqs)].sort((a, b) => a - b),
      [...Array(COUNT).keys()],
    );
    const upstream = (
      JSON.parse(running.cli(['system', 'status', '--json']).stdout) as {
        upstream?: { connected: boolean; kind?: string };
      }
    ).upstream;
    assert.equal(upstream?.connected, true);
    assert.equal(upstream?.kind, 'parent');
  });

  test('dynamic_reprovisioning: the parent refuses the old identity, DPS moves the child, it restarts under the new one', async () => {
    const running = child!;
    // the child's new identity on the parent, the old one removed; DPS now assigns the new one
    const added = parent.cli(['identity', 'add', MOVED, '--edge', '--key', childKey]);
    assert.equal(added.code, 0, added.stderr);
    const removed = parent.cli(['identity', 'remove', CHILD]);
    assert.equal(removed.code, 0, removed.stderr);
    dps.enrollments.set('child-registration', { key: childKey, assignedHub: 'localhost', deviceId: MOVED });
    const exited = new Promise<number | null>((resolve) =>
      running.process!.once('exit', (code) => resolve(code)),
    );
    // the parent restarts: the child connects again, as the old identity, and is refused
    assert.equal(await parent.signal('SIGTERM'), 0);
    await parent.start();
    assert.equal(await exited, 75, running.output);
    assert.match(running.output, /dynamic reprovisioning: the upstream refused this device/);
    assert.match(running.output, new RegExp(`dynamic reprovisioning: DPS assigned ${MOVED} on localhost`));

    await running.start();
    assert.equal(provisioningState(running)?.deviceId, MOVED);
    await eventually(
      async () => {
        const status = JSON.parse(running.cli(['system', 'status', '--json']).stdout) as {
          upstream?: { connected: boolean };
        };
        return status.upstream?.connected ? true : undefined;
      },
      'the child connected to its parent as its new identity',
      60_000,
    );
  });
});
