/**
 * A real iotedged with its Edge Hub under hostile input: random and edited MQTT CONNECTs and
 * packets on the hub's port, random management API requests on its socket. No case may stop the
 * daemon; a CONNECT is accepted only with a token signed with its identity's key; afterwards the
 * daemon answers, serves a well-behaved module, and its output holds no key, signature or stack.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { parseConnectIdentity } from '../../src/runtime/hub/mqtt/connect-identity.js';
import { parseSasToken, verifySasToken } from '../../src/runtime/identity/sas.js';
import { TestDaemon, manifest, nodeModule } from '../helpers/daemon.js';
import {
  DEVICE_ID,
  DEVICE_KEY,
  IOTHUB_HOSTNAME,
  ModuleCredentials,
  connectPacket,
  hubEndpoint,
  subscribePacket,
  type HubEndpoint,
} from '../helpers/mqtt-client.js';
import { checkAnswer } from './support/api-answers.js';
import { apiRequest, LEAF_KEY, send, type ApiRequest } from './support/management-requests.js';
import { secretFragmentIn } from './support/messages.js';
import { connackCode, probe, publishPacket } from './support/mqtt-probe.js';
import { connectFields, editedConnect, sessionPackets, type ConnectFields } from './support/mqtt-packets.js';
import { runTarget } from './support/run.js';
import { target } from './support/target.js';

const HOSTNAME = 'localhost';
const MODULE = 'fuzzed';
const OTHER_KEY = Buffer.from('a key that no identity of the hub has').toString('base64');

/** Requests that would take the daemon's deployment or hub away from the rest of the run. */
const DISRUPTIVE = /^\/(deployment(\?|$)|modules\/(edgeHub|edgeAgent)\/(stop|restart))/;

describe('a live iotedged under hostile input', () => {
  const daemon = new TestDaemon({}, [], HOSTNAME);
  const credentials = new ModuleCredentials(daemon, HOSTNAME);
  let hub: HubEndpoint;
  let good: Required<ConnectFields>;
  let wrongKeyToken: string;

  /** Whether `fields` carry a token the hub must accept: signed with a key of the identity they name. */
  function validCredentials(fields: ConnectFields): boolean {
    const parsed = parseConnectIdentity(fields.clientId, fields.username);
    if (!parsed.ok || fields.password === undefined) return false;
    const { deviceId, moduleId } = parsed.identity;
    if (deviceId !== DEVICE_ID || moduleId !== MODULE) return false;
    const keys = [credentials.key(MODULE), credentials.key(MODULE, 'secondary'), DEVICE_KEY];
    const verification = verifySasToken(fields.password, {
      identity: { deviceId, moduleId },
      keys,
      hostnames: [IOTHUB_HOSTNAME, HOSTNAME],
      now: new Date(),
    });
    return verification.ok;
  }

  before(async () => {
    await daemon.start();
    const deployed = await daemon.request(
      'POST',
      '/deployment',
      manifest({ [MODULE]: nodeModule('sleeper.js', ['60000']) }),
    );
    assert.equal(deployed.status, 200, deployed.body);
    hub = await hubEndpoint(daemon, [MODULE], HOSTNAME);
    good = credentials.connectFields(MODULE);
    wrongKeyToken = credentials.token(MODULE, { key: OTHER_KEY });
  });

  after(async () => {
    await daemon.cleanup();
  });

  /** A subscription to twin responses and a twin GET with request id `id`. */
  const twinRequest = (id: string) => [
    subscribePacket('$iothub/twin/res/#'),
    publishPacket(`$iothub/twin/GET/?$rid=${id}`, Buffer.alloc(0)),
  ];

  test('a twin request sent right after the CONNECT, before the CONNACK, is answered', async () => {
    const eager = await probe(hub, [connectPacket(good), ...twinRequest('eager')], 1000);
    assert.equal(connackCode(eager.bytes), 0);
    assert.ok(
      eager.bytes.includes('$iothub/twin/res/200/?$rid=eager'),
      'MQTT 3.1.1 lets a client send before the CONNACK',
    );
  });

  test("a module's topic with a line break does not start a line of the daemon's log", async () => {
    const topic = '$iothub/unknown\n2030-01-01T00:00:00.000Z agent: forged line';
    await probe(hub, [connectPacket(good)], 300, [publishPacket(topic, Buffer.alloc(0))]);
    assert.ok(
      !daemon.output.includes('\n2030-01-01T00:00:00.000Z agent: forged line'),
      'the topic is quoted in the log',
    );
  });

  test('CONNECTs with random and edited fields: accepted only with a properly signed token', () =>
    runTarget(
      target({
        name: 'live hub: CONNECT fields',
        runs: 120,
        async: true,
        arbitrary: () => connectFields(good, wrongKeyToken),
        check: async (fields: ConnectFields) => {
          const answer = await probe(hub, [connectPacket(fields)]);
          const code = connackCode(answer.bytes);
          if (code === 0) assert.ok(validCredentials(fields), `accepted ${JSON.stringify(fields)}`);
        },
      }),
    ));

  test('CONNECTs with bytes flipped, inserted or cut', () =>
    runTarget(
      target({
        name: 'live hub: edited CONNECT packets',
        runs: 120,
        async: true,
        arbitrary: () => editedConnect({ ...good, password: wrongKeyToken }),
        check: async (packet: Buffer) => {
          const answer = await probe(hub, [packet]);
          assert.notEqual(connackCode(answer.bytes), 0, 'no CONNECT signed with an unknown key is accepted');
        },
      }),
    ));

  test('a connected module sends edited packets', () =>
    runTarget(
      target({
        name: 'live hub: edited session packets',
        runs: 120,
        async: true,
        arbitrary: () => sessionPackets(DEVICE_ID, MODULE),
        check: async (packets: Buffer[]) => {
          await probe(hub, [connectPacket(good), ...packets]);
        },
      }),
    ));

  test('random management API requests each get an answer', () =>
    runTarget(
      target({
        name: 'live daemon: management API requests',
        runs: 200,
        async: true,
        arbitrary: () =>
          apiRequest.filter((request) => !(request.method === 'POST' && DISRUPTIVE.test(request.path))),
        check: async (request: ApiRequest) =>
          checkAnswer(request, await send(daemon.socket, request, 30_000)),
      }),
    ));

  test('afterwards the daemon runs, answers, serves a module, and its output holds no secret', async () => {
    assert.equal(daemon.process?.exitCode, null, 'the daemon is alive');
    assert.equal((await daemon.request('GET', '/modules')).status, 200);
    const served = await probe(hub, [connectPacket(good)], 1000, twinRequest('alive'));
    assert.equal(connackCode(served.bytes), 0, 'a module with its own token is accepted');
    assert.ok(served.bytes.includes('$iothub/twin/res/200/?$rid=alive'), 'and its twin request answered');

    const signature = parseSasToken(good.password).signature;
    const secrets = [
      DEVICE_KEY,
      credentials.key(MODULE),
      credentials.key(MODULE, 'secondary'),
      signature,
      encodeURIComponent(signature),
      LEAF_KEY,
    ];
    for (const secret of secrets) {
      const piece = secretFragmentIn(daemon.output, secret);
      assert.equal(piece, undefined, `the daemon's output repeats ${JSON.stringify(piece)} of a secret`);
    }
    assert.doesNotMatch(daemon.output, /Unhandled|\n\s+at /, 'no stack trace in the output');
    // a client's line breaks in a logged field would start lines of its own
    const forged = daemon.output.split('\n').filter((line) => line !== '' && !/^\d{4}-\d\d-\d\dT/.test(line));
    assert.deepEqual(forged.slice(0, 5), [], 'every line of the output is one the daemon wrote');
  });
});
