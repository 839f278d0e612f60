import assert from 'node:assert/strict';
import { test } from 'node:test';
import { followMonitor, textLines } from '../../../src/cli/monitor-follow.js';
import { parseMonitorLine, renderMonitorJson, renderMonitorText } from '../../../src/cli/monitor-render.js';
import { parseMonitorQuery } from '../../../src/runtime/daemon/monitor-route.js';
import { ApiError } from '../../../src/runtime/daemon/management-types.js';
import {
  decodeBody,
  monitorMessage,
  type MonitorLine,
} from '../../../src/runtime/hub/monitor/monitor-event.js';

const routed = monitorMessage('$upstream', {
  body: Buffer.from('{"machine":{"temperature":30.5}}'),
  properties: { MessageType: 'Alert' },
  systemProperties: {
    connectionDeviceId: 'edge-1',
    connectionModuleId: 'filter',
    outputName: 'output1',
    contentType: 'application/json',
    enqueuedTime: '2026-01-01T00:00:00.000Z',
  },
  source: '/messages/modules/filter/outputs/output1',
});

test('bodies are decoded: JSON as a value, UTF-8 text as a string, other bytes as base64', () => {
  assert.deepEqual(decodeBody(Buffer.from(' {"a":[1,2]} ')), { body: { a: [1, 2] }, bodyEncoding: 'json' });
  assert.deepEqual(decodeBody(Buffer.from('42')), { body: 42, bodyEncoding: 'json' });
  assert.deepEqual(decodeBody(Buffer.from('héllo\nworld')), { body: 'héllo\nworld', bodyEncoding: 'text' });
  assert.deepEqual(decodeBody(Buffer.from('')), { body: '', bodyEncoding: 'text' });
  assert.deepEqual(decodeBody(Buffer.from([0xff, 0xfe, 0x00])), { body: '//4A', bodyEncoding: 'base64' });
  assert.deepEqual(decodeBody(Buffer.from([0x41, 0x00, 0x42])), { body: 'QQBC', bodyEncoding: 'base64' });
});

test('a monitor line names the endpoint, the origin and both kinds of properties', () => {
  assert.deepEqual(routed, {
    endpoint: '$upstream',
    origin: { deviceId: 'edge-1', moduleId: 'filter', outputName: 'output1' },
    properties: {
      application: { MessageType: 'Alert' },
      system: {
        connectionDeviceId: 'edge-1',
        connectionModuleId: 'filter',
        outputName: 'output1',
        contentType: 'application/json',
        enqueuedTime: '2026-01-01T00:00:00.000Z',
      },
    },
    body: { machine: { temperature: 30.5 } },
    bodyEncoding: 'json',
  });
});

test('text rendering: origin, output, endpoint, properties and body; drops as a note', () => {
  assert.equal(
    renderMonitorText(routed),
    [
      '[2026-01-01T00:00:00.000Z] edge-1/filter (output output1) -> $upstream',
      '  application properties: MessageType=Alert',
      '  system properties: connectionDeviceId=edge-1, connectionModuleId=filter, contentType=application/json',
      '  body: {"machine":{"temperature":30.5}}',
      '',
    ].join('\n'),
  );
  assert.equal(renderMonitorText({ dropped: 3 }), '(3 messages not shown: the monitor fell behind)\n');
  assert.equal(renderMonitorText({ dropped: 1 }), '(1 message not shown: the monitor fell behind)\n');
});

test('JSON rendering is one object per line that parses back to the same line', () => {
  const text = renderMonitorJson(routed);
  assert.equal(text.endsWith('\n'), true);
  assert.equal(text.trimEnd().includes('\n'), false);
  assert.deepEqual(parseMonitorLine(text), routed);
  assert.deepEqual(parseMonitorLine('{"dropped":2}'), { dropped: 2 });
  assert.throws(() => parseMonitorLine('not json'), /not JSON/);
  assert.throws(() => parseMonitorLine('{"x":1}'), /unknown shape/);
});

test('the monitor query: $upstream by default, one module input, sender filters; bad forms are 400', () => {
  const query = (text: string) => parseMonitorQuery(new URLSearchParams(text));
  assert.deepEqual(query(''), {});
  assert.deepEqual(query('input=filter/input1&device=edge-1&module=sensor'), {
    input: { module: 'filter', input: 'input1' },
    deviceId: 'edge-1',
    moduleId: 'sensor',
  });
  for (const bad of ['input=filter', 'input=a/b/c', 'input=/x', 'module=a/b', 'device=']) {
    assert.throws(
      () => query(bad),
      (error: unknown) => error instanceof ApiError && error.status === 400,
      bad,
    );
  }
});

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

test('lines are split across chunk boundaries, the last one without a line feed too', async () => {
  const lines: string[] = [];
  for await (const line of textLines(chunks('ab', 'c\nd', 'é\n\n', 'tail'))) lines.push(line);
  assert.deepEqual(lines, ['abc', 'dé', '', 'tail']);
});

const stream = (lines: MonitorLine[], thenWait = false) =>
  async function* (signal: AbortSignal): AsyncGenerator<Buffer> {
    for (const line of lines) yield Buffer.from(renderMonitorJson(line));
    if (thenWait)
      await new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () =>
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
        ),
      );
  };

test('follow stops at --count messages (drop notes do not count) and aborts the request', async () => {
  const shown: MonitorLine[] = [];
  let aborted = false;
  const outcome = await followMonitor(
    async (signal) => {
      signal.addEventListener('abort', () => (aborted = true));
      return stream([routed, { dropped: 4 }, routed, routed], true)(signal);
    },
    { count: 2 },
    (line) => void shown.push(line),
  );
  assert.deepEqual(outcome, { messages: 2, dropped: 4, end: 'count' });
  assert.equal(shown.length, 3);
  assert.equal(aborted, true);
});

test('follow stops after the idle timeout without a message, and when the stream ends', async () => {
  const idle = await followMonitor(
    async (signal) => stream([routed], true)(signal),
    { idleMs: 50 },
    () => undefined,
  );
  assert.deepEqual(idle, { messages: 1, dropped: 0, end: 'timeout' });
  const ended = await followMonitor(
    async (signal) => stream([routed])(signal),
    {},
    () => undefined,
  );
  assert.deepEqual(ended, { messages: 1, dropped: 0, end: 'closed' });
});

test('follow stops when its signal aborts (Ctrl-C)', async () => {
  const stop = new AbortController();
  const outcome = await followMonitor(
    async (signal) => stream([routed], true)(signal),
    {},
    () => stop.abort(),
    stop.signal,
  );
  assert.equal(outcome.end, 'aborted');
});
