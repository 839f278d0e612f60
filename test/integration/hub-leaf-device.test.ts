import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, hubPorts, manifest } from '../helpers/daemon.js';
import { freePort } from '../helpers/free-port.js';
import {
  LeafDevice,
  expectRebootAnswered,
  leafDeployment,
  selfSignedCertificate,
} from '../helpers/leaf-device.js';

describe('leaf devices registered with iotedge identity talk through the hub with the Azure IoT SDK', () => {
  const daemon = new TestDaemon({}, [], 'localhost');
  const leaves: LeafDevice[] = [];
  let port: number;
  let ca: string;
  let connectionString: string;
  let primaryKey: string;
  const leaf = (cs: string, count = 0, x509?: { cert: string; key: string }) => {
    const device = new LeafDevice(cs, ca, count, x509);
    leaves.push(device);
    return device;
  };
  const logs = (module: string) => daemon.cli(['logs', module]).stdout;

  before(async () => {
    port = await freePort();
    await daemon.start();
    ca = path.join(daemon.homedir, 'hsm', 'certs', 'edge_owner_ca.cert.pem');
    const document = leafDeployment(hubPorts(port, 0));
    const result = await daemon.request('POST', '/deployment', document);
    assert.equal(result.status, 200, result.body);
    await eventually(async () => (logs('receiver').includes('reported') ? true : undefined), 'the receiver');
  });
  after(async () => {
    await Promise.all(leaves.map((device) => device.stop()));
    if (process.env.DEBUG_DAEMON) console.log(daemon.output, logs('receiver'));
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await daemon.cleanup();
  });

  test('iotedge identity add prints a connection string through this gateway; keys are shown only then', () => {
    const added = daemon.cli(['identity', 'add', 'leaf1', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const created = JSON.parse(added.stdout) as Record<string, string>;
    primaryKey = created.primaryKey!;
    connectionString = created.connectionString!;
    assert.equal(created.deviceId, 'leaf1');
    assert.equal(created.authType, 'Sas');
    assert.equal(Buffer.from(primaryKey, 'base64').length, 32);
    assert.equal(
      connectionString,
      `HostName=hub.example.net;DeviceId=leaf1;SharedAccessKey=${primaryKey};GatewayHostName=localhost:${port}`,
    );

    const text = daemon.cli(['identity', 'add', 'leaf2', '--key', Buffer.alloc(32, 7).toString('base64')]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Added leaf device leaf2 \(SAS; its keys are shown only this once/);
    assert.match(
      text.stdout,
      /\nHostName=hub\.example\.net;DeviceId=leaf2;SharedAccessKey=BwcH.*;GatewayHostName=localhost:\d+\n$/,
    );

    const listed = daemon.cli(['identity', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(primaryKey), 'GET /devices never shows keys');
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { devices: { deviceId: string; authType: string }[] }).devices.map(
        ({ deviceId, authType }) => [deviceId, authType],
      ),
      [
        ['leaf1', 'Sas'],
        ['leaf2', 'Sas'],
      ],
    );
    assert.equal(statSync(path.join(daemon.homedir, 'hub', 'devices.json')).mode & 0o777, 0o600);
  });

  test('bad input, a taken id and an unknown one: a clear message, no stack, exit 1', () => {
    const cases: [string[], RegExp][] = [
      [['identity', 'add', 'leaf1'], /^device leaf1 already exists\n$/],
      [['identity', 'add', 'a b'], /^DEVICE_ID: a device id may only hold/],
      [['identity', 'add', 'edge-1'], /^DEVICE_ID: edge-1 is this edge device's own id\n$/],
      [['identity', 'add', 'x', '--key', 'not-base64!'], /^--key: expected a base64 key\n$/],
      [['identity', 'add', 'x', '--thumbprint', 'abc'], /^--thumbprint: expected a SHA-256/],
      [
        ['identity', 'add', 'x', '--key', 'AAAA', '--thumbprint', 'ab'.repeat(20)],
        /--thumbprint=.* cannot also be[\s›]+provided when using --key/,
      ],
      [['identity', 'remove', 'nobody'], /^device nobody not found\n$/],
      [['invoke', 'receiver', 'ping', '--payload', '{nope'], /^--payload: not valid JSON/],
    ];
    for (const [args, stderr] of cases) {
      const run = daemon.cli(args);
      assert.equal(run.code, 1, args.join(' '));
      assert.match(run.stderr, stderr, args.join(' '));
      assert.ok(!run.stderr.includes('    at '), 'no stack trace');
    }
  });

  test('an X.509 device is registered by thumbprint; the list shows thumbprints, never keys', () => {
    const sha256 = 'ab'.repeat(32);
    const added = daemon.cli([
      'identity',
      'add',
      'cam1',
      '--thumbprint',
      sha256,
      '--secondary-thumbprint',
      'CD'.repeat(20),
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /X\.509, thumbprint (AB){32} or (CD){20}\)/);
    assert.match(
      added.stdout,
      /HostName=hub\.example\.net;DeviceId=cam1;x509=true;GatewayHostName=localhost:\d+/,
    );
    const table = daemon.cli(['identity', 'list']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^DEVICE ID\s+AUTH\s+STATUS\s+CREATED$/);
    assert.match(lines[1]!, /^cam1\s+x509\s+disconnected\s+\d{4}-\d\d-\d\dT/);
    assert.equal(lines.length, 4);
    assert.equal(daemon.cli(['identity', 'remove', 'cam1']).code, 0);
  });

  test('the leaf device sends telemetry that the route brings to the receiver module', async () => {
    const device = leaf(connectionString, 3);
    await device.said('sent 3');
    await eventually(
      async () =>
        /input in1 seq=2 body=\{"seq":2,"from":"leaf"\}/.test(logs('receiver')) ? true : undefined,
      'the receiver to get the leaf device messages',
    );
    const inputs = logs('receiver')
      .split('\n')
      .filter((line) => line.startsWith('input in1'));
    assert.deepEqual(
      inputs.map((line) => line.split(' body=')[0]),
      ['input in1 seq=0', 'input in1 seq=1', 'input in1 seq=2'],
    );
    const table = daemon.cli(['identity', 'list']).stdout;
    assert.match(table, /^leaf1\s+sas\s+connected\s/m);
  });

  test('an X.509 device connects with the certificate of its thumbprint; another certificate is refused', async () => {
    const own = selfSignedCertificate(daemon.dir, 'cam2');
    const other = selfSignedCertificate(daemon.dir, 'cam2-other');
    const added = daemon.cli(['identity', 'add', 'cam2', '--thumbprint', own.thumbprint, '--json']);
    assert.equal(added.code, 0, added.stderr);
    const { connectionString: x509String } = JSON.parse(added.stdout) as { connectionString: string };
    assert.match(x509String, /;x509=true;/);

    const device = leaf(x509String, 2, own);
    await device.said('sent 2');
    await eventually(
      async () =>
        /input in1 seq=1 body=\{"seq":1,"from":"leaf"\}/.test(logs('receiver')) ? true : undefined,
      'the receiver to get the X.509 device messages',
    );
    assert.match(daemon.cli(['identity', 'list']).stdout, /^cam2\s+x509\s+connected\s/m);
    await device.stop();

    const impostor = leaf(x509String, 0, other);
    assert.equal(await impostor.exited, 1);
    assert.match(impostor.output, /open failed: UnauthorizedError/);
    assert.match(
      daemon.output,
      /refused cam2: cam2: the client certificate's thumbprint is not the device's/,
    );

    assert.equal(daemon.cli(['identity', 'remove', 'cam2']).code, 0);
  });

  test('iotedge invoke reaches a module and a leaf device', async () => {
    const module = daemon.cli(['invoke', 'receiver', 'ping', '--payload', '{"a":1}', '--timeout', '10']);
    assert.equal(module.code, 0, module.stderr);
    assert.deepEqual(JSON.parse(module.stdout), {
      status: 200,
      payload: { pong: { a: 1 }, from: 'receiver' },
    });

    expectRebootAnswered(daemon, 'leaf1');
    await leaves[0]!.said('method reboot {"in":5}');

    const silent = daemon.cli(['invoke', 'leaf2', 'reboot']);
    assert.equal(silent.code, 1);
    assert.equal(silent.stderr, 'leaf2 is not connected or not listening for methods\n');
  });

  test('iotedge send delivers a cloud-to-device message that the device completes', async () => {
    const sent = daemon.cli([
      'send',
      'leaf1',
      'hello leaf',
      '--props',
      'kind=command;n=1',
      '--correlation-id',
      'c-7',
    ]);
    assert.equal(sent.code, 0, sent.stderr);
    const { messageId } = JSON.parse(sent.stdout) as { messageId: string };
    assert.match(messageId, /^[0-9a-f-]{36}$/);
    await leaves[0]!.said(`c2d hello leaf id=${messageId} cid=c-7 props={"kind":"command","n":"1"}`);

    const offline = daemon.cli(['send', 'leaf2', 'x']);
    assert.equal(offline.code, 1);
    assert.equal(offline.stderr, 'leaf2 is not connected or not subscribed to cloud-to-device messages\n');
    const unknown = daemon.cli(['send', 'nobody', 'x']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'no leaf device nobody\n');
    const badProps = daemon.cli(['send', 'leaf1', 'x', '--props', 'novalue']);
    assert.equal(badProps.code, 1);
    assert.match(badProps.stderr, /--props: expected key=value pairs separated by ; \(got "novalue"\)/);
  });

  test('a wrong key is refused', async () => {
    const wrong = connectionString.replace(primaryKey, Buffer.alloc(32, 3).toString('base64'));
    const device = leaf(wrong);
    assert.equal(await device.exited, 1);
    assert.match(device.output, /open failed: UnauthorizedError/);
    assert.match(daemon.output, /refused leaf1: leaf1: SAS token signature does not match/);
  });

  test('iotedge identity remove disconnects the device and its credentials stop working', async () => {
    const mark = daemon.output.length;
    const since = (pattern: RegExp) => async () =>
      pattern.test(daemon.output.slice(mark)) ? true : undefined;
    const removed = daemon.cli(['identity', 'remove', 'leaf1']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, 'Removed leaf device leaf1\n');
    await eventually(since(/hub: leaf1 disconnected/), 'the hub to drop leaf1');
    // the SDK client that was connected tries again, with the token that no longer works
    await eventually(since(/refused leaf1: unknown identity leaf1/), 'the old client to be refused');
    const again = leaf(connectionString);
    assert.equal(await again.exited, 1);
    assert.match(again.output, /open failed: UnauthorizedError/);
    const listed = JSON.parse(daemon.cli(['identity', 'list', '--json']).stdout) as { devices: unknown[] };
    assert.equal(listed.devices.length, 1);
    assert.ok(!daemon.output.includes(primaryKey), 'keys never reach the daemon log');
  });
});
