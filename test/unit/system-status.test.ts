import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  countModules,
  formatBytes,
  formatUptime,
  renderSystemStatus,
  renderUpstream,
} from '../../src/cli/system-status.js';
import type { ModuleDetails } from '../../src/runtime/daemon/management-types.js';

const withStatus = (status: string): ModuleDetails =>
  ({
    id: 'id',
    name: status,
    type: 'process',
    config: { settings: {}, env: [] },
    status: { runtimeStatus: { status } },
  }) as ModuleDetails;

test('modules are counted per status in a fixed order', () => {
  const modules = ['failed', 'running', 'stopped', 'running', 'weird', 'backoff', 'unknown'].map(withStatus);
  assert.deepEqual(Object.entries(countModules(modules)), [
    ['running', 2],
    ['backoff', 1],
    ['stopped', 1],
    ['failed', 1],
    ['unknown', 1],
    ['weird', 1],
  ]);
  assert.deepEqual(countModules([]), {});
});

test('uptime shows its largest unit and the next one', () => {
  assert.equal(formatUptime(0), '0 seconds');
  assert.equal(formatUptime(1), '1 second');
  assert.equal(formatUptime(59.9), '59 seconds');
  assert.equal(formatUptime(60), '1 minute');
  assert.equal(formatUptime(62), '1 minute 2 seconds');
  assert.equal(formatUptime(3600 + 120 + 5), '1 hour 2 minutes');
  assert.equal(formatUptime(2 * 86_400 + 5), '2 days');
  assert.equal(formatUptime(3 * 86_400 + 4 * 3600 + 59), '3 days 4 hours');
  assert.equal(formatUptime(-5), '0 seconds');
});

test('the status text names the socket, version, uptime and module summary', () => {
  const daemon = {
    host: 'unix:///run/mgmt.sock',
    running: true as const,
    version: '1.2.3',
    uptimeSeconds: 7384,
  };
  assert.equal(
    renderSystemStatus({ daemon, modules: { running: 2, failed: 1 } }),
    'iotedged is running at unix:///run/mgmt.sock\nVersion: 1.2.3\nUptime:  2 hours 3 minutes\nModules: 2 running, 1 failed (3 in all)\n',
  );
  assert.match(renderSystemStatus({ daemon, modules: {} }), /\nModules: none\n$/);
});

test("the status text lists each of the hub's queues with its messages, bytes and oldest age", () => {
  const daemon = {
    host: 'unix:///run/mgmt.sock',
    running: true as const,
    version: '1.2.3',
    uptimeSeconds: 5,
  };
  const text = renderSystemStatus({
    daemon,
    modules: {},
    queues: [
      { endpoint: '$upstream', messages: 0, bytes: 0, oldestMessageAgeSeconds: null, duplicates: 0 },
      {
        endpoint: 'edge-1/receiver/inputs/in1',
        messages: 1200,
        bytes: 3_500_000,
        oldestMessageAgeSeconds: 125,
        duplicates: 3,
      },
    ],
  });
  assert.match(
    text,
    /\nQueues:\n {2}\$upstream: 0 messages, 0 B\n {2}edge-1\/receiver\/inputs\/in1: 1200 messages, 3\.3 MiB, oldest 2 minutes 5 seconds, 3 sent again after a restart\n$/,
  );
  assert.match(renderSystemStatus({ daemon, modules: {}, queues: [] }), /\nQueues: {2}none\n$/);
});

test('byte counts take the largest binary unit', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(5 * 2 ** 30), '5.0 GiB');
});

test('the upstream line: connected, offline with its last error, or none', () => {
  const base = {
    target: '127.0.0.1:18883',
    kind: 'parent' as const,
    protocol: 'MQTT' as const,
    connections: 1,
    refused: 0,
  };
  assert.equal(
    renderUpstream({ ...base, connected: true, since: '2024-06-01T12:00:00.000Z' }),
    'MQTT to 127.0.0.1:18883 (parent edge device), connected since 2024-06-01T12:00:00.000Z',
  );
  assert.equal(
    renderUpstream({
      ...base,
      target: 'hub.example.net:8883',
      kind: 'iothub',
      connected: false,
      since: '2024-06-01T12:00:00.000Z',
      lastError: 'getaddrinfo ENOTFOUND hub.example.net',
    }),
    'MQTT to hub.example.net:8883 (IoT Hub), offline since 2024-06-01T12:00:00.000Z; last error: getaddrinfo ENOTFOUND hub.example.net',
  );
  assert.equal(
    renderUpstream({
      target: 'none',
      protocol: 'MQTT',
      connected: false,
      lastError: 'parent_hostname: port 0 is not between 1 and 65535',
    }),
    'none (parent_hostname: port 0 is not between 1 and 65535)',
  );
  const text = renderSystemStatus({
    daemon: { host: 'unix:///s', running: true, version: '1.0.0', uptimeSeconds: 5 },
    modules: {},
    upstream: { ...base, connected: true, since: '2024-06-01T12:00:00.000Z' },
  });
  assert.match(text, /\nUpstream: MQTT to 127\.0\.0\.1:18883 \(parent edge device\), connected since /);
});
