/**
 * What an MQTT client writes in topics and CONNECT fields: property bags, publish topics,
 * subscription filters, client ids and usernames. Nothing throws; telemetry always carries the
 * connection's own identity, never one the bag claims; a bag decodes to what was encoded.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { parseConnectIdentity } from '../../../src/runtime/hub/mqtt/connect-identity.js';
import {
  decodePropertyBag,
  encodePropertyBag,
  percentDecode,
  percentEncode,
} from '../../../src/runtime/hub/mqtt/property-bag.js';
import {
  classifyPublish,
  classifySubscribe,
  type WireIdentity,
} from '../../../src/runtime/hub/mqtt/topics.js';
import { nastyString, textOf } from '../support/arbitraries.js';
import { assertCleanMessage, hasControlCharacter } from '../support/messages.js';
import { applyTextEdits, textEdits } from '../support/mutations.js';
import { target } from '../support/target.js';

const IDENTITIES: WireIdentity[] = [
  { deviceId: 'edge-1', moduleId: 'm1' },
  { deviceId: 'edge-1' },
  { deviceId: 'leaf' },
];

const TOPIC_WORDS = [
  'devices/', 'devices', 'edge-1', 'leaf', 'EDGE-1', 'modules/', 'm1', 'm2', '/', '/messages/events/', 'messages/events',
  '$.cdid=evil', '$.cmid=evil', '%24.cdid=evil', '%24.on=out', '$.on=', '$.mid=1', '$.ct=application%2Fjson',
  '$.ce=utf-8', 'iothub-operation=x', '&', '=', '?', '%', '%2', '%zz', '%24', '%E2%82', '__proto__=1', 'constructor=',
  '$iothub/', '$iothub/twin/GET/?$rid=1', '$iothub/twin/PATCH/properties/reported/?$rid=2&$version=3',
  '$iothub/methods/res/200/?$rid=4', '$iothub/methods/res/', '$rid=', '%24rid=5', '$version=', '#', '+',
  '$iothub/twin/res/#', '$iothub/methods/POST/#', '$iothub/twin/PATCH/properties/desired/#', 'inputs/#', 'messages/devicebound/#',
]; // prettier-ignore

const VALID_TOPICS = [
  'devices/edge-1/modules/m1/messages/events/%24.on=out1&%24.ct=application%2Fjson&temp=20/',
  'devices/edge-1/messages/events/a=1&b=%20c',
  '$iothub/twin/PATCH/properties/reported/?$rid=7&$version=4',
  '$iothub/methods/res/200/?$rid=9',
  'devices/edge-1/modules/m1/#',
];

const topic = fc.oneof(
  textOf(TOPIC_WORDS, 10).map((text) => text.replace(/\s/g, '')),
  fc
    .tuple(
      fc.constantFrom(...VALID_TOPICS),
      textEdits(fc.oneof(fc.constantFrom(...TOPIC_WORDS), nastyString(3))),
    )
    .map(([text, edits]) => applyTextEdits(text, edits)),
  nastyString(40),
);

function checkPublish([identity, text]: [WireIdentity, string]): void {
  const result = classifyPublish(identity, text, Buffer.from('{}'));
  switch (result.kind) {
    case 'telemetry': {
      const { systemProperties, source } = result.message;
      assert.equal(systemProperties.connectionDeviceId, identity.deviceId, 'the device id is the connection');
      assert.equal(systemProperties.connectionModuleId, identity.moduleId, 'the module id is the connection');
      const own = identity.moduleId === undefined ? '/messages' : `/messages/modules/${identity.moduleId}`;
      assert.ok(source === own || source.startsWith(`${own}/outputs/`), `source ${source}`);
      break;
    }
    case 'twin-get':
    case 'twin-patch-reported':
    case 'method-response':
      assert.ok(result.requestId !== '', 'a request id');
      break;
    default:
      assertCleanMessage(result.reason, { input: text });
  }
}

function checkSubscribe([identity, filter]: [WireIdentity, string]): void {
  const result = classifySubscribe(identity, filter);
  if (result.kind !== 'subscription') assertCleanMessage(result.reason, { input: filter });
  else if (result.subscription === 'inputs' || result.subscription === 'c2d') {
    const own =
      identity.moduleId === undefined
        ? `devices/${identity.deviceId}/`
        : `devices/${identity.deviceId}/modules/${identity.moduleId}/`;
    assert.ok(filter.startsWith(own), `${filter} is the identity's own`);
  }
}

/** Keys that decode as system properties, not application properties. */
const SYSTEM_KEYS = new Set([
  '$.mid',
  '$.cid',
  '$.to',
  '$.uid',
  '$.ct',
  '$.ce',
  '$.exp',
  '$.on',
  '$.schema',
  '$.ctime',
  '$.ifid',
  '$.sub',
  'iothub-operation',
  'ack',
]);
/** Text without lone surrogates, which no bag can carry (they are sent as U+FFFD). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = nastyString(12).filter((text) => !LONE_SURROGATE.test(text));

export const targets = [
  target({
    name: 'decodePropertyBag: random bags decode to string properties',
    runs: 3000,
    arbitrary: () =>
      fc.oneof(
        textOf(TOPIC_WORDS, 8).map((text) => text.replace(/\s/g, '')),
        nastyString(40),
      ),
    check: (bag: string) => {
      const { properties, systemProperties } = decodePropertyBag(bag);
      for (const value of [...Object.values(properties), ...Object.values(systemProperties)]) {
        assert.equal(typeof value, 'string');
      }
      assert.equal(Object.getPrototypeOf(properties), Object.prototype);
      assert.equal(typeof percentEncode(percentDecode(bag)), 'string');
    },
  }),
  target({
    name: 'encodePropertyBag: application properties decode to what was encoded',
    runs: 2000,
    arbitrary: () =>
      fc.array(
        fc.tuple(
          wellFormed.filter((key) => !SYSTEM_KEYS.has(key)),
          wellFormed,
        ),
        { maxLength: 6 },
      ),
    check: (entries: [string, string][]) => {
      const properties = Object.fromEntries(entries) as Record<string, string>;
      const bag = encodePropertyBag({ properties, systemProperties: {} });
      assert.deepStrictEqual(decodePropertyBag(bag).properties, properties);
    },
  }),
  target({
    name: 'classifyPublish: random and edited topics',
    runs: 4000,
    arbitrary: () => fc.tuple(fc.constantFrom(...IDENTITIES), topic),
    check: checkPublish,
  }),
  target({
    name: 'classifySubscribe: random and edited filters',
    runs: 2000,
    arbitrary: () => fc.tuple(fc.constantFrom(...IDENTITIES), topic),
    check: checkSubscribe,
  }),
  target({
    name: 'parseConnectIdentity: random client ids and usernames',
    runs: 3000,
    arbitrary: () =>
      fc.tuple(
        fc.oneof(fc.constantFrom('edge-1', 'edge-1/m1', 'edge-1/m1/x', ''), nastyString(16)),
        fc.option(
          fc.oneof(
            textOf(
              [
                'hub.example.net',
                '/',
                'edge-1',
                'm1',
                '?',
                'api-version=2021-04-12',
                '&',
                'DeviceClientType=x',
                '%',
                ' ',
              ],
              8,
            ).map((text) => text.replace(/\s/g, '')),
            fc
              .tuple(
                fc.constant('hub.example.net/edge-1/m1/?api-version=2021-04-12&model-id=a'),
                textEdits(nastyString(3)),
              )
              .map(([text, edits]) => applyTextEdits(text, edits)),
          ),
          { nil: undefined },
        ),
      ),
    // findings: ids and refusals, logged by the hub, carried the client's line breaks
    examples: [
      ['edge-1\nforged/m1', 'hub/edge-1\nforged/m1/?api-version=2021-04-12'],
      ['x\n2030-01-01T00:00:00.000Z agent: forged', 'hub/edge-1/?api-version=2021-04-12'],
    ],
    check: ([clientId, username]: [string, string | undefined]) => {
      const result = parseConnectIdentity(clientId, username);
      if (!result.ok) {
        assertCleanMessage(result.message, { input: `${clientId} ${username}`, logged: true });
        return;
      }
      const { deviceId, moduleId } = result.identity;
      assert.equal(
        clientId,
        moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`,
        'the client id names the identity',
      );
      assert.ok(deviceId !== '' && result.identity.apiVersion.trim() !== '');
      assert.ok(
        !/\s/.test(clientId) && !hasControlCharacter(clientId),
        'the identity, logged as it is, has no blank or control character',
      );
    },
  }),
];
