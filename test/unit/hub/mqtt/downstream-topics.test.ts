import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  classifyDownstream,
  classifyPublish,
  downstreamFilters,
  methodResponseTopic,
  reportedPatchTopic,
  twinGetTopic,
} from '../../../../src/runtime/hub/mqtt/topics.js';
import { reportedPatchToSend } from '../../../../src/runtime/hub/upstream/reported-mirror.js';

describe('what an upstream sends a device, and what a device sends it', () => {
  test('twin responses carry their status, request id and optional version', () => {
    assert.deepEqual(classifyDownstream('$iothub/twin/res/200/?$rid=4'), {
      kind: 'twin-response',
      status: 200,
      requestId: '4',
    });
    assert.deepEqual(classifyDownstream('$iothub/twin/res/204/?$rid=a%20b&$version=12'), {
      kind: 'twin-response',
      status: 204,
      requestId: 'a b',
      version: 12,
    });
    assert.equal(classifyDownstream('$iothub/twin/res/xx/?$rid=4').kind, 'unknown');
    assert.equal(classifyDownstream('$iothub/twin/res/200/').kind, 'unknown', 'no $rid');
  });

  test('desired patches, method requests and cloud-to-device messages', () => {
    assert.deepEqual(classifyDownstream('$iothub/twin/PATCH/properties/desired/?$version=7'), {
      kind: 'desired-patch',
      version: 7,
    });
    assert.deepEqual(classifyDownstream('$iothub/twin/PATCH/properties/desired/'), { kind: 'desired-patch' });
    assert.deepEqual(classifyDownstream('$iothub/methods/POST/reboot/?$rid=9'), {
      kind: 'method-request',
      methodName: 'reboot',
      requestId: '9',
    });
    assert.equal(classifyDownstream('$iothub/methods/POST//?$rid=9').kind, 'unknown', 'no method name');
    const c2d = classifyDownstream('devices/leaf-a/messages/devicebound/%24.mid=m1&color=red/');
    assert.equal(c2d.kind, 'c2d');
    assert.equal(c2d.kind === 'c2d' && c2d.properties.color, 'red');
    assert.equal(c2d.kind === 'c2d' && c2d.systemProperties.messageId, 'm1');
    assert.equal(classifyDownstream('devices/leaf-a/modules/m/messages/devicebound/').kind, 'unknown');
    assert.equal(classifyDownstream('something/else').kind, 'unknown');
  });

  test("a device's requests are what the hub's own topic map reads back", () => {
    const identity = { deviceId: 'child-1', moduleId: '$edgeAgent' };
    assert.deepEqual(classifyPublish(identity, twinGetTopic('r 1'), Buffer.alloc(0)), {
      kind: 'twin-get',
      requestId: 'r 1',
    });
    assert.deepEqual(classifyPublish(identity, reportedPatchTopic('2'), Buffer.alloc(0)), {
      kind: 'twin-patch-reported',
      requestId: '2',
    });
    assert.deepEqual(classifyPublish(identity, methodResponseTopic(504, '3'), Buffer.alloc(0)), {
      kind: 'method-response',
      requestId: '3',
      status: 504,
    });
    assert.equal(downstreamFilters(identity).length, 3);
    assert.deepEqual(downstreamFilters({ deviceId: 'leaf' }).at(-1), 'devices/leaf/messages/devicebound/#');
  });

  test('the reported patch to send is the difference, nulls for what is gone, metadata left out', () => {
    assert.deepEqual(
      reportedPatchToSend(
        { a: 1, gone: true, nested: { x: 1, y: 2 }, $version: 9 },
        { a: 1, nested: { x: 1, y: 3 }, added: 'n', $version: 2 },
      ),
      { gone: null, nested: { y: 3 }, added: 'n' },
    );
    assert.deepEqual(reportedPatchToSend({ a: 1 }, { a: 1 }), {});
  });
});
