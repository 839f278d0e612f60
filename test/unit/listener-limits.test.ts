import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  DEFAULT_LISTENER_LIMITS,
  listenerGuards,
  listenerLimitsFromEnv,
} from '../../src/runtime/daemon/listener-limits.js';

test('without the variables, the documented defaults', () => {
  assert.deepEqual(listenerLimitsFromEnv({}), {
    handshakeMs: 10_000,
    connectMs: 60_000,
    maxConnections: { mqtt: 2048, https: 256, amqp: 2048, metrics: 16 },
  });
  assert.deepEqual(listenerLimitsFromEnv({ IOTEDGE_HUB_MAX_CONNECTIONS: '' }), DEFAULT_LISTENER_LIMITS);
});

test('deadlines in seconds (fractions too) and any subset of the caps', () => {
  const limits = listenerLimitsFromEnv({
    IOTEDGE_HUB_HANDSHAKE_TIMEOUT_SECS: '0.5',
    IOTEDGE_HUB_CONNECT_TIMEOUT_SECS: '2',
    IOTEDGE_HUB_MAX_CONNECTIONS: 'mqtt=20,amqp=7,metrics=3',
  });
  assert.deepEqual(limits, {
    handshakeMs: 500,
    connectMs: 2000,
    maxConnections: { mqtt: 20, https: 256, amqp: 7, metrics: 3 },
  });
});

test('a value that cannot be read is an error naming the variable and the value', () => {
  for (const [name, value, message] of [
    [
      'IOTEDGE_HUB_HANDSHAKE_TIMEOUT_SECS',
      'soon',
      /IOTEDGE_HUB_HANDSHAKE_TIMEOUT_SECS: "soon" is not a number of seconds/,
    ],
    ['IOTEDGE_HUB_HANDSHAKE_TIMEOUT_SECS', '0', /"0" is not a number of seconds above 0/],
    ['IOTEDGE_HUB_CONNECT_TIMEOUT_SECS', '-1', /IOTEDGE_HUB_CONNECT_TIMEOUT_SECS: "-1"/],
    ['IOTEDGE_HUB_CONNECT_TIMEOUT_SECS', '1e9', /at most 86400/],
    ['IOTEDGE_HUB_CONNECT_TIMEOUT_SECS', ' ', /" " is not a number/],
    ['IOTEDGE_HUB_MAX_CONNECTIONS', 'ws=5', /"ws=5" is not mqtt=N, https=N, amqp=N or metrics=N/],
    ['IOTEDGE_HUB_MAX_CONNECTIONS', 'mqtt=0', /"mqtt=0"/],
    ['IOTEDGE_HUB_MAX_CONNECTIONS', 'mqtt=1.5', /"mqtt=1.5"/],
    ['IOTEDGE_HUB_MAX_CONNECTIONS', 'mqtt', /"mqtt"/],
    ['IOTEDGE_HUB_MAX_CONNECTIONS', 'mqtt=5=6', /"mqtt=5=6"/],
  ] as const) {
    assert.throws(() => listenerLimitsFromEnv({ [name]: value }), message, `${name}=${value}`);
  }
});

test('each listener is guarded: TLS handshake for MQTT and AMQP, the first request for the HTTP ports', () => {
  const log = () => undefined;
  const guards = listenerGuards(listenerLimitsFromEnv({ IOTEDGE_HUB_MAX_CONNECTIONS: 'https=9' }), log);
  assert.deepEqual(
    Object.fromEntries(
      Object.entries(guards).map(([key, guard]) => [
        key,
        [guard.name, guard.maxConnections, guard.deadlineMs, guard.settledBy],
      ]),
    ),
    {
      mqtt: ['MQTT', 2048, 10_000, 'handshake'],
      https: ['HTTPS', 9, 10_000, 'request'],
      amqp: ['AMQP', 2048, 10_000, 'handshake'],
      metrics: ['metrics', 16, 10_000, 'request'],
    },
  );
});
