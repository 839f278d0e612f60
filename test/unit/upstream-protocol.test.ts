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

test('the requested protocol is logged once, chooses the transport, and shows in the status', () => {
  const lines: string[] = [];
  const link = new UpstreamLink({
    address: { kind: 'parent', host: '127.0.0.1', port: 18883 },
    iothubHostname: 'hub.example.net',
    edgeDeviceId: 'child-1',
    productInfo: 'test',
    endpoint: new UpstreamEndpoint(new MemoryMessageStore()),
    log: (line) => lines.push(line),
    amqpPort: 15671,
    httpsPort: 10443,
  });
  assert.equal(link.status().protocol, 'MQTT');
  link.requestProtocol('AmqpWs');
  link.requestProtocol('AmqpWs');
  assert.deepEqual(lines, ['hub: upstream: UpstreamProtocol AmqpWs: the link speaks AMQP over WebSocket']);
  const status = link.status();
  assert.equal(status.protocol, 'AMQP over WebSocket');
  assert.equal(status.requestedProtocol, 'AmqpWs');
  assert.match(
    renderUpstream(status),
    /^AMQP over WebSocket \(UpstreamProtocol AmqpWs\) to 127\.0\.0\.1:10443 /,
  );
  link.requestProtocol('Amqp');
  assert.equal(link.status().protocol, 'AMQP');
  assert.equal(link.status().target, '127.0.0.1:15671');
  link.requestProtocol('Mqtt');
  assert.equal(link.status().protocol, 'MQTT');
  assert.equal(link.status().target, '127.0.0.1:18883');
  link.requestProtocol(undefined);
  assert.equal(link.status().requestedProtocol, undefined);
  link.stop();
});
