import assert from 'node:assert/strict';
import { test } from 'node:test';

import { renderUpstream } from '../../src/cli/system-status.js';
import { parseUpstreamProtocol } from '../../src/runtime/deployment/upstream-protocol.js';
import { UpstreamLink } from '../../src/runtime/hub/upstream/upstream-link.js';
import { UpstreamEndpoint } from '../../src/runtime/hub/endpoints/upstream.js';
import { MemoryMessageStore } from '../../src/runtime/hub/endpoints/memory-store.js';

test("edgeHub's UpstreamProtocol is read case-insensitively; unset is undefined; anything else a problem", () => {
  assert.equal(parseUpstreamProtocol({}), undefined);
  assert.equal(parseUpstreamProtocol({ UpstreamProtocol: 'mqtt' }), 'Mqtt');
  assert.equal(parseUpstreamProtocol({ UpstreamProtocol: ' AMQPWS ' }), 'AmqpWs');
  assert.deepEqual(parseUpstreamProtocol({ UpstreamProtocol: 'Http' }), {
    problem: '"Http" is not an upstream protocol (Amqp, AmqpWs, Mqtt, MqttWs)',
  });
});

test('a protocol the link does not speak yet is logged once, shown in the status, and MQTT is used', () => {
  const lines: string[] = [];
  const link = new UpstreamLink({
    address: { kind: 'parent', host: '127.0.0.1', port: 18883 },
    iothubHostname: 'hub.example.net',
    edgeDeviceId: 'child-1',
    productInfo: 'test',
    endpoint: new UpstreamEndpoint(new MemoryMessageStore()),
    log: (line) => lines.push(line),
  });
  link.requestProtocol('AmqpWs');
  link.requestProtocol('AmqpWs');
  assert.deepEqual(lines, [
    'hub: upstream: UpstreamProtocol AmqpWs is not supported yet; the link speaks MQTT',
  ]);
  const status = link.status();
  assert.equal(status.protocol, 'MQTT');
  assert.equal(status.requestedProtocol, 'AmqpWs');
  assert.match(
    renderUpstream(status),
    /^MQTT \(UpstreamProtocol AmqpWs is not supported yet\) to 127\.0\.0\.1:18883 /,
  );
  link.requestProtocol('Mqtt');
  assert.equal(link.status().requestedProtocol, undefined);
});
