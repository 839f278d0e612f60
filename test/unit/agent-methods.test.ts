import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { test } from 'node:test';

import {
  AgentMethodError,
  MAX_LOGS_PAYLOAD,
  agentMethod,
  levelAndText,
  logsAnswer,
  modulesToRead,
  parseLogsRequest,
  parseRestartRequest,
  parseTaskStatusRequest,
  renderLogs,
  selectLines,
} from '../../src/runtime/agent/methods/agent-method-requests.js';
import { agentMethodHandler, type AgentMethodTarget } from '../../src/runtime/agent/methods/agent-methods.js';
import type { LogLine, LogOptions } from '../../src/runtime/modules/types.js';

const NOW = new Date('2026-03-01T12:00:00Z');

function refused(run: () => unknown, status: number, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof AgentMethodError, String(error));
    assert.equal(error.status, status);
    assert.match(error.message, message);
    return true;
  });
}

const line = (text: string, seconds = 0, stream: LogLine['stream'] = 'stdout'): LogLine => ({
  time: new Date(NOW.getTime() + seconds * 1000),
  stream,
  text,
});

test('method names are case-insensitive; an unknown one is 400 listing those there are', () => {
  assert.equal(agentMethod('restartmodule'), 'RestartModule');
  assert.equal(agentMethod('PING'), 'ping');
  refused(
    () => agentMethod('reboot'),
    400,
    /^Command 'reboot' not found\. The supported commands are - ping,RestartModule,GetModuleLogs,GetTaskStatus,UploadModuleLogs,UploadSupportBundle$/,
  );
});

test('RestartModule and GetTaskStatus payloads: schemaVersion of major 1 and the id are required, named when wrong', () => {
  assert.deepEqual(parseRestartRequest({ schemaVersion: '1.0', id: 'tempSensor' }), { id: 'tempSensor' });
  assert.deepEqual(parseRestartRequest({ schemaVersion: '1.1', id: 'x' }), { id: 'x' });
  refused(() => parseRestartRequest(null), 400, /^Request payload not found$/);
  refused(() => parseRestartRequest([1]), 400, /^payload: expected a JSON object$/);
  refused(() => parseRestartRequest({ id: 'x' }), 400, /^schemaVersion: expected a non-empty string$/);
  refused(
    () => parseRestartRequest({ schemaVersion: 'one', id: 'x' }),
    400,
    /^schemaVersion: "one" is not a version/,
  );
  refused(
    () => parseRestartRequest({ schemaVersion: '2.0', id: 'x' }),
    400,
    /^schemaVersion: 2\.0 is not compatible/,
  );
  refused(
    () => parseRestartRequest({ schemaVersion: '1.0', id: ' ' }),
    400,
    /^id: expected a non-empty string$/,
  );
  refused(() => parseRestartRequest({ schemaVersion: '1.0', id: 7 }), 400, /^id: /);
  assert.deepEqual(parseTaskStatusRequest({ schemaVersion: '1.0', correlationId: 'abc' }), {
    correlationId: 'abc',
  });
  refused(() => parseTaskStatusRequest({ schemaVersion: '1.0' }), 400, /^correlationId: /);
});

test('GetModuleLogs payload: items (one or many), filters, encoding and content type, each field named when wrong', () => {
  const request = parseLogsRequest(
    {
      schemaVersion: '1.0',
      items: [
        { id: 'temp.*', filter: { tail: 5, since: '10m', until: 1_700_000_000, loglevel: 3, regex: 'err' } },
      ],
      encoding: 'GZIP',
      contentType: 'json',
    },
    NOW,
  );
  assert.equal(request.encoding, 'gzip');
  assert.equal(request.contentType, 'json');
  const [item] = request.items;
  assert.equal(item!.id, 'temp.*');
  assert.deepEqual(
    { ...item!.filter, regex: item!.filter.regex?.source },
    { tail: 5, since: NOW.getTime() / 1000 - 600, until: 1_700_000_000, loglevel: 3, regex: 'err' },
  );
  // one item may be given without an array; encoding and content type default to none and text
  const single = parseLogsRequest({ schemaVersion: '1.0', items: { id: 'all' } }, NOW);
  assert.equal(single.items[0]!.pattern, 'all');
  assert.deepEqual(single.items[0]!.filter, {});
  assert.equal(single.encoding, 'none');
  assert.equal(single.contentType, 'text');

  const bad = (payload: Record<string, unknown>, message: RegExp) =>
    refused(() => parseLogsRequest({ schemaVersion: '1.0', ...payload }, NOW), 400, message);
  bad({}, /^items: expected an array/);
  bad({ items: [{}] }, /^items\[0\]\.id: expected a non-empty string$/);
  bad({ items: ['x'] }, /^items\[0\]: expected a JSON object/);
  bad({ items: [{ id: '(' }] }, /^items\[0\]\.id: not a valid regular expression/);
  bad({ items: [{ id: 'a', filter: { tail: -1 } }] }, /^items\[0\]\.filter\.tail: expected an integer/);
  bad({ items: [{ id: 'a', filter: { tail: '5' } }] }, /^items\[0\]\.filter\.tail: /);
  bad(
    { items: [{ id: 'a', filter: { loglevel: 8 } }] },
    /^items\[0\]\.filter\.loglevel: expected an integer from 0 to 7$/,
  );
  bad(
    { items: [{ id: 'a' }, { id: 'b', filter: { since: 'yesterday' } }] },
    /^items\[1\]\.filter\.since: expected an RFC 3339 time/,
  );
  bad(
    { items: [{ id: 'a', filter: { regex: '[' } }] },
    /^items\[0\]\.filter\.regex: not a valid regular expression/,
  );
  bad({ items: [{ id: 'a', filter: [] }] }, /^items\[0\]\.filter: expected a JSON object$/);
  bad(
    { items: [{ id: 'a' }], encoding: 'zip' },
    /^encoding: unknown value "zip", expected one of none, gzip$/,
  );
  bad(
    { items: [{ id: 'a' }], contentType: 'xml' },
    /^contentType: unknown value "xml", expected one of text, json$/,
  );
});

test('items name modules by regular expression, case-insensitively; a module named twice takes the first filter', () => {
  const request = parseLogsRequest(
    {
      schemaVersion: '1.0',
      items: [
        { id: 'SENSOR', filter: { tail: 1 } },
        { id: 'all', filter: { tail: 2 } },
      ],
    },
    NOW,
  );
  assert.deepEqual(modulesToRead(request, ['edgeAgent', 'tempSensor', 'filter']), [
    { id: 'tempSensor', filter: { tail: 1 } },
    { id: 'edgeAgent', filter: { tail: 2 } },
    { id: 'filter', filter: { tail: 2 } },
  ]);
  const none = parseLogsRequest({ schemaVersion: '1.0', items: [{ id: '^nothing$' }] }, NOW);
  assert.deepEqual(modulesToRead(none, ['edgeAgent']), []);
});

test('log level and text: a <N> prefix and a timestamp are taken off; level 6 when none', () => {
  assert.deepEqual(levelAndText('<3> 2019-02-14 16:15:35.243 -08:00 [ERR] broke'), {
    loglevel: 3,
    text: '[ERR] broke',
  });
  assert.deepEqual(levelAndText('<4>careful'), { loglevel: 4, text: 'careful' });
  assert.deepEqual(levelAndText('plain line'), { loglevel: 6, text: 'plain line' });
});

test('filters keep lines of the level, matching the regex, then the last tail of them', () => {
  const lines = [line('<6> one'), line('<3> two err'), line('<6> three err'), line('<3> four err')];
  assert.deepEqual(
    selectLines(lines, { loglevel: 3 }).map((l) => l.text),
    ['<3> two err', '<3> four err'],
  );
  assert.deepEqual(
    selectLines(lines, { regex: /err$/, tail: 2 }).map((l) => l.text),
    ['<6> three err', '<3> four err'],
  );
  // the regex is tested on the text without the level prefix
  assert.deepEqual(
    selectLines(lines, { regex: /^one$/ }).map((l) => l.text),
    ['<6> one'],
  );
  assert.deepEqual(selectLines(lines, { tail: 0 }), []);
  assert.equal(selectLines(lines, {}).length, 4);
});

test('text content is the lines, one a line; json content is IoT Edge log messages', () => {
  const lines = [line('hello'), line('<3> bad', 1, 'stderr')];
  assert.equal(renderLogs('m', lines, 'text', { iothub: 'h.net', device: 'd' }), 'hello\n<3> bad\n');
  assert.deepEqual(JSON.parse(renderLogs('m', lines, 'json', { iothub: 'h.net', device: 'd' })), [
    {
      iothub: 'h.net',
      device: 'd',
      id: 'm',
      stream: 'stdout',
      loglevel: 6,
      text: 'hello',
      timestamp: NOW.toISOString(),
    },
    {
      iothub: 'h.net',
      device: 'd',
      id: 'm',
      stream: 'stderr',
      loglevel: 3,
      text: 'bad',
      timestamp: new Date(NOW.getTime() + 1000).toISOString(),
    },
  ]);
});

test('the answer: payload as text, or gzip as base64 payloadBytes; too large is 400', () => {
  assert.deepEqual(logsAnswer([{ id: 'a', content: 'x\n' }], 'none'), [
    { id: 'a', payloadBytes: null, payload: 'x\n' },
  ]);
  const [zipped] = logsAnswer([{ id: 'a', content: 'x\n' }], 'gzip');
  assert.equal(zipped!.payload, null);
  assert.equal(gunzipSync(Buffer.from(zipped!.payloadBytes!, 'base64')).toString(), 'x\n');
  const big = 'y'.repeat(MAX_LOGS_PAYLOAD / 2 + 1);
  refused(
    () =>
      logsAnswer(
        [
          { id: 'a', content: big },
          { id: 'b', content: big },
        ],
        'none',
      ),
    400,
    /^The payload is too large for a direct method\. GetModuleLogs supports up to 127000 bytes/,
  );
  // gzip counts the compressed bytes
  assert.equal(
    logsAnswer(
      [
        { id: 'a', content: big },
        { id: 'b', content: big },
      ],
      'gzip',
    ).length,
    2,
  );
});

/** A target with modules edgeAgent, edgeHub and tempSensor, recording restarts and log reads. */
function fakeTarget() {
  const restarted: string[] = [];
  const reads: { name: string; options: LogOptions }[] = [];
  const target: AgentMethodTarget = {
    moduleNames: async () => ['edgeAgent', 'edgeHub', 'tempSensor'],
    restartModule: async (name) => {
      restarted.push(name);
    },
    moduleLogs: async (name, options) => {
      reads.push({ name, options });
      const all = [line(`${name} 1`), line(`${name} 2`), line(`${name} 3`)];
      return (async function* () {
        yield* options.tail === undefined ? all : all.slice(-options.tail);
      })();
    },
  };
  return { target, restarted, reads };
}

test('the handler answers ping, RestartModule, GetModuleLogs and GetTaskStatus as IoT Edge does', async () => {
  const { target, restarted, reads } = fakeTarget();
  const logged: string[] = [];
  const handle = agentMethodHandler({
    target,
    source: { iothub: 'h.net', device: 'd' },
    log: (text) => logged.push(text),
    now: () => NOW,
  });
  assert.deepEqual(await handle('ping', null), { status: 200, payload: null });
  assert.deepEqual(await handle('RestartModule', { schemaVersion: '1.0', id: 'tempSensor' }), {
    status: 200,
    payload: null,
  });
  assert.deepEqual(restarted, ['tempSensor']);
  assert.deepEqual(await handle('RestartModule', { schemaVersion: '1.0', id: 'ghost' }), {
    status: 500,
    payload: { message: 'Module ghost not found in the current environment' },
  });
  assert.deepEqual(restarted, ['tempSensor'], 'nothing restarted for an unknown module');

  const logs = await handle('GetModuleLogs', {
    schemaVersion: '1.0',
    items: [{ id: 'temp', filter: { tail: 2 } }],
  });
  assert.deepEqual(logs, {
    status: 200,
    payload: [{ id: 'tempSensor', payloadBytes: null, payload: 'tempSensor 2\ntempSensor 3\n' }],
  });
  assert.deepEqual(reads, [{ name: 'tempSensor', options: { tail: 2, since: undefined, until: undefined } }]);

  assert.deepEqual(await handle('GetTaskStatus', { schemaVersion: '1.0', correlationId: 'c-1' }), {
    status: 200,
    payload: { status: 'Unknown', message: '', correlationId: 'c-1' },
  });
  const bad = await handle('GetModuleLogs', {
    schemaVersion: '1.0',
    items: [{ id: 'x', filter: { tail: 'all' } }],
  });
  assert.equal(bad.status, 400);
  assert.match((bad.payload as { message: string }).message, /^items\[0\]\.filter\.tail: /);
  assert.equal((await handle('dance', null)).status, 400);
  for (const method of ['UploadModuleLogs', 'UploadSupportBundle']) {
    const answer = await handle(method, { schemaVersion: '1.0', sasUrl: 'https://x/y?sig=z' });
    assert.equal(answer.status, 501);
    assert.match((answer.payload as { message: string }).message, /does not upload to blob storage/);
  }
  assert.ok(logged.some((text) => /answered 400/.test(text)));
  assert.ok(!logged.some((text) => text.includes('sig=z')), 'the SAS URL is never logged');
});

test('a failure of the runtime is 500 with its message', async () => {
  const { target } = fakeTarget();
  target.restartModule = async () => {
    throw new Error('the process runtime is gone');
  };
  const handle = agentMethodHandler({ target, source: { iothub: 'h', device: 'd' }, log: () => undefined });
  assert.deepEqual(await handle('RestartModule', { schemaVersion: '1.0', id: 'edgeHub' }), {
    status: 500,
    payload: { message: 'the process runtime is gone' },
  });
});
