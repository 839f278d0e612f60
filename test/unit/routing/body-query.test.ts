import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePath, queryBody } from '../../../src/runtime/routing/body-query.js';
import { compileRoute } from '../../../src/runtime/routing/route.js';
import type { HubMessage, SystemProperties } from '../../../src/runtime/routing/message.js';

const JSON_BODY = '{"temp": 35, "s": "é"}';

function message(systemProperties: SystemProperties, body: Buffer = Buffer.from(JSON_BODY)): HubMessage {
  return { body, properties: {}, systemProperties, source: '/messages/modules/m1' };
}

const temp = (of: HubMessage) => queryBody(of, ['temp']);

test('paths: keys, indices, errors', () => {
  assert.deepEqual(parsePath('a'), ['a']);
  assert.deepEqual(parsePath('a.b[0][12].c'), ['a', 'b', 0, 12, 'c']);
  assert.deepEqual(parsePath('odd-key.x_y'), ['odd-key', 'x_y']);
  for (const bad of ['', 'a.', '.a', 'a..b', 'a[', 'a[x]', '[0]', 'a[0]b']) {
    assert.equal(typeof parsePath(bad), 'string', bad);
  }
});

test('body queries need a JSON content type, parameters and case allowed', () => {
  for (const contentType of [
    'application/json',
    'APPLICATION/JSON',
    'application/json; charset=utf-8',
    ' application/json ',
  ]) {
    assert.equal(temp(message({ contentType, contentEncoding: 'utf-8' })), 35, contentType);
  }
  for (const contentType of [undefined, 'text/plain', 'application/jsonx', 'application/xml', 'json']) {
    assert.equal(
      temp(message({ ...(contentType ? { contentType } : {}), contentEncoding: 'utf-8' })),
      undefined,
    );
  }
});

test('body queries need a UTF encoding, declared in any case', () => {
  assert.equal(temp(message({ contentType: 'application/json', contentEncoding: 'UTF-8' })), 35);
  assert.equal(temp(message({ contentType: 'application/json' })), undefined, 'no encoding declared');
  assert.equal(temp(message({ contentType: 'application/json', contentEncoding: 'gzip' })), undefined);
  assert.equal(temp(message({ contentType: 'application/json', contentEncoding: 'ascii' })), undefined);
});

test('UTF-16 and UTF-32 bodies, either byte order, with or without a BOM', () => {
  const utf16le = Buffer.from(JSON_BODY, 'utf16le');
  const utf16be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(JSON_BODY, 'utf16le').swap16()]);
  const utf16bom = Buffer.concat([Buffer.from([0xff, 0xfe]), utf16le]);
  const utf32 = (bigEndian: boolean, bom: boolean) => {
    const chars = [...(bom ? '\ufeff' : ''), ...JSON_BODY];
    const buffer = Buffer.alloc(chars.length * 4);
    chars.forEach((c, i) =>
      bigEndian
        ? buffer.writeUInt32BE(c.codePointAt(0)!, i * 4)
        : buffer.writeUInt32LE(c.codePointAt(0)!, i * 4),
    );
    return buffer;
  };
  const cases: [string, Buffer][] = [
    ['utf-16', utf16le],
    ['utf-16', utf16be],
    ['utf-16', utf16bom],
    ['UTF-32', utf32(false, false)],
    ['utf-32', utf32(false, true)],
    ['utf-32', utf32(true, true)],
    ['utf-8', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON_BODY)])],
  ];
  for (const [contentEncoding, body] of cases) {
    const of = message({ contentType: 'application/json', contentEncoding }, body);
    assert.equal(temp(of), 35, `${contentEncoding} ${body.subarray(0, 4).toString('hex')}`);
    assert.equal(queryBody(of, ['s']), 'é');
  }
  const odd = message({ contentType: 'application/json', contentEncoding: 'utf-16' }, Buffer.from([0x7b]));
  assert.equal(temp(odd), undefined);
});

test('invalid JSON and non-object bodies give undefined', () => {
  const json = { contentType: 'application/json', contentEncoding: 'utf-8' };
  assert.equal(temp(message(json, Buffer.from('{"temp": 35'))), undefined);
  assert.equal(temp(message(json, Buffer.from(''))), undefined);
  assert.equal(temp(message(json, Buffer.from('[35]'))), undefined);
  assert.equal(temp(message(json, Buffer.from('35'))), undefined);
});

test('the body is parsed once per message across all routes and conditions', () => {
  const routes = [
    'FROM /messages/* WHERE $body.temp > 30 INTO $upstream',
    'FROM /* WHERE $body.s = "é" AND $body.temp = 35 INTO $upstream',
    'FROM /messages/modules/m1 WHERE is_defined($body.other) OR $body.temp < 0 INTO $upstream',
  ].map(compileRoute);
  const of = message({ contentType: 'application/json', contentEncoding: 'utf-8' });
  const parse = JSON.parse;
  let calls = 0;
  JSON.parse = (...args: Parameters<typeof JSON.parse>) => {
    calls++;
    return parse(...args);
  };
  try {
    assert.deepEqual(
      routes.map((route) => route.matches(of)),
      [true, true, false],
    );
    routes.forEach((route) => route.matches(of));
    assert.equal(calls, 1);
    routes[0]!.matches(message({ contentType: 'application/json', contentEncoding: 'utf-8' }));
    assert.equal(calls, 2, 'another message is parsed on its own');
  } finally {
    JSON.parse = parse;
  }
});

test('a body is parsed only when a query is reached (short-circuit, source first)', () => {
  const route = compileRoute(
    `FROM /messages/* WHERE $connectionModuleId = 'x' AND $body.temp > 1 INTO $upstream`,
  );
  const parse = JSON.parse;
  let calls = 0;
  JSON.parse = (...args: Parameters<typeof JSON.parse>) => {
    calls++;
    return parse(...args);
  };
  try {
    const of = message({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      connectionModuleId: 'm1',
    });
    assert.equal(route.matches(of), false, 'AND stops at false');
    assert.equal(
      compileRoute('FROM /twinChangeNotifications WHERE $body.temp > 1 INTO $upstream').matches(of),
      false,
    );
    assert.equal(calls, 0);
  } finally {
    JSON.parse = parse;
  }
});
