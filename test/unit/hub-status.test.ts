import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderHubStatus } from '../../src/cli/hub-status.js';
import type { HubStatusReport } from '../../src/runtime/daemon/management-types.js';

const NOW = new Date('2026-12-06T12:00:00Z');

function report(edits: Partial<HubStatusReport> = {}): HubStatusReport {
  return {
    startTime: '2026-12-06T11:00:00.000Z',
    routes: [
      {
        name: 'warm',
        route:
          'FROM /messages/modules/sender/outputs/out1 INTO BrokeredEndpoint("/modules/receiver/inputs/in1")',
        priority: 1,
        timeToLiveSecs: 120,
      },
      { name: 'all', route: 'FROM /messages/* INTO $upstream', priority: null, timeToLiveSecs: 0 },
    ],
    clients: [
      { id: 'edge-1/receiver', protocol: 'AMQP', connectedSince: '2026-12-06T11:58:00.000Z' },
      { id: 'edge-1/sender', protocol: 'MQTT-WS', connectedSince: '2026-12-06T11:59:30.000Z' },
    ],
    queues: [
      { endpoint: '$upstream', messages: 3, bytes: 2048, oldestMessageAgeSeconds: 65, duplicates: 0 },
      {
        endpoint: 'edge-1/receiver/inputs/in1',
        messages: 0,
        bytes: 0,
        oldestMessageAgeSeconds: null,
        duplicates: 0,
      },
    ],
    counters: { received: 12, routed: 10, unrouted: 2, delivered: 9, expired: 1, evicted: 0 },
    upstream: { target: 'none', protocol: 'MQTT', connected: false, lastError: 'no upstream is configured' },
    ...edits,
  };
}

test('hub status text: start, upstream, routes with options, clients, queues, counters', () => {
  assert.equal(
    renderHubStatus(report(), NOW),
    [
      'Edge Hub: running since 2026-12-06T11:00:00.000Z (1 hour)',
      'Upstream: none (no upstream is configured)',
      'Routes (2):',
      '  warm  FROM /messages/modules/sender/outputs/out1 INTO BrokeredEndpoint("/modules/receiver/inputs/in1")  (priority 1, time to live 2 minutes)',
      '  all   FROM /messages/* INTO $upstream',
      'Clients (2 connected):',
      '  edge-1/receiver  AMQP     since 2026-12-06T11:58:00.000Z (2 minutes)',
      '  edge-1/sender    MQTT-WS  since 2026-12-06T11:59:30.000Z (30 seconds)',
      'Queues:',
      '  $upstream: 3 messages, 2.0 KiB, oldest 1 minute 5 seconds',
      '  edge-1/receiver/inputs/in1: 0 messages, 0 B',
      'Messages since the hub started:',
      '  received 12 (routed 10, matching no route 2), delivered 9, expired 1, dropped for a full store 0',
      '',
    ].join('\n'),
  );
});

test('hub status text: no routes, no clients, no start time, unknown protocol', () => {
  const text = renderHubStatus(report({ routes: [], clients: [], startTime: null }), NOW);
  assert.match(text, /^Edge Hub: running\n/);
  assert.match(text, /^Routes: {3}none$/m);
  assert.match(text, /^Clients: {2}none connected$/m);
  const unknown = renderHubStatus(
    report({ clients: [{ id: 'leaf-1', protocol: null, connectedSince: null }] }),
    NOW,
  );
  assert.match(unknown, /^ {2}leaf-1 {2}-$/m);
});
