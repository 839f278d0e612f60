import assert from 'node:assert/strict';
import { test } from 'node:test';

import { webSocketRoute } from '../../src/runtime/hub/http/websocket-route.js';

test('the IoT Hub WebSocket path goes to the head of its subprotocol', () => {
  assert.deepEqual(webSocketRoute('/$iothub/websocket', 'mqtt'), {
    ok: true,
    subprotocol: 'mqtt',
    head: 'mqtt',
  });
  assert.deepEqual(webSocketRoute('/$iothub/websocket?iothub-no-client-cert=true', 'AMQPWSB10'), {
    ok: true,
    subprotocol: 'AMQPWSB10',
    head: 'amqp',
  });
  assert.deepEqual(webSocketRoute('/%24iothub/websocket', 'chat, mqtt'), {
    ok: true,
    subprotocol: 'mqtt',
    head: 'mqtt',
  });
});

test('another path is not found; no known subprotocol is a bad request', () => {
  const notFound = webSocketRoute('/other', 'mqtt');
  assert.equal(notFound.ok, false);
  assert.equal(!notFound.ok && notFound.status, 404);
  const none = webSocketRoute('/$iothub/websocket', undefined);
  assert.equal(!none.ok && none.status, 400);
  assert.match(!none.ok ? none.reason : '', /\(none\) is not mqtt or AMQPWSB10/);
  const wrong = webSocketRoute('/$iothub/websocket', 'MQTT, amqp');
  assert.equal(!wrong.ok && wrong.status, 400);
  assert.equal(webSocketRoute('//[', 'mqtt').ok, false);
});
