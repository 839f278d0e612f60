import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseSource,
  receivesTwinChanges,
  sourceMatches,
  type RouteSource,
} from '../../../src/runtime/routing/source.js';
import { compileRoute } from '../../../src/runtime/routing/route.js';
import type { HubMessage, MessageSource } from '../../../src/runtime/routing/message.js';

const DEVICE = '/messages';
const MODULE = '/messages/modules/m1';
const OUTPUT = '/messages/modules/m1/outputs/o1';
const OTHER_OUTPUT = '/messages/modules/m1/outputs/o2';
const OTHER_MODULE = '/messages/modules/m2/outputs/o1';
const PREFIXED_MODULE = '/messages/modules/m10';
const TWIN = '/twinChangeNotifications';
const ALL: MessageSource[] = [DEVICE, MODULE, OUTPUT, OTHER_OUTPUT, OTHER_MODULE, PREFIXED_MODULE, TWIN];

function source(text: string): RouteSource {
  const parsed = parseSource(text);
  assert.notEqual(typeof parsed, 'string', text);
  return parsed as RouteSource;
}

function matched(from: string): MessageSource[] {
  const route = compileRoute(`FROM ${from} INTO $upstream`);
  return ALL.filter((origin) => {
    const message: HubMessage = {
      body: Buffer.alloc(0),
      properties: {},
      systemProperties: {},
      source: origin,
    };
    return route.matches(message);
  });
}

test('route sources match the message sources IoT Hub documents for them', () => {
  const table: [string, MessageSource[]][] = [
    ['/*', ALL],
    ['/', ALL],
    ['/messages/*', [DEVICE, MODULE, OUTPUT, OTHER_OUTPUT, OTHER_MODULE, PREFIXED_MODULE]],
    ['/messages', [DEVICE, MODULE, OUTPUT, OTHER_OUTPUT, OTHER_MODULE, PREFIXED_MODULE]],
    ['/messages/modules/*', [MODULE, OUTPUT, OTHER_OUTPUT, OTHER_MODULE, PREFIXED_MODULE]],
    ['/messages/modules/m1/*', [MODULE, OUTPUT, OTHER_OUTPUT]],
    ['/messages/modules/m1', [MODULE, OUTPUT, OTHER_OUTPUT]],
    ['/messages/modules/m1/', [MODULE, OUTPUT, OTHER_OUTPUT]],
    ['/messages/modules/m1/outputs/*', [OUTPUT, OTHER_OUTPUT]],
    ['/messages/modules/m1/outputs/o1', [OUTPUT]],
    ['/messages/modules/*/outputs/o1', []],
    ['/messages/*/m1', []],
    ['/twinChangeNotifications', [TWIN]],
    ['/messages/modules/m', []],
    ['/nothing', []],
  ];
  for (const [from, expected] of table) assert.deepEqual(matched(from), expected, from);
});

test('matching is case-insensitive', () => {
  assert.deepEqual(matched('/MESSAGES/Modules/M1/OUTPUTS/O1'), [OUTPUT]);
  assert.deepEqual(matched('/TwinChangeNotifications'), [TWIN]);
});

test('a literal * in the middle matches a module literally named *', () => {
  const route = compileRoute('FROM /messages/modules/*/outputs/o1 INTO $upstream');
  const star: HubMessage = {
    body: Buffer.alloc(0),
    properties: {},
    systemProperties: {},
    source: '/messages/modules/*/outputs/o1',
  };
  assert.equal(route.matches(star), true);
});

test('parseSource keeps the text and builds a lower-cased prefix ending in /', () => {
  assert.deepEqual(parseSource('/Messages/*'), { text: '/Messages/*', prefix: '/messages/' });
  assert.deepEqual(parseSource('/messages/modules/m1/'), {
    text: '/messages/modules/m1/',
    prefix: '/messages/modules/m1/',
  });
  assert.deepEqual(parseSource('/*'), { text: '/*', prefix: '/' });
  assert.equal(sourceMatches(source('/messages'), '/messagesx/'), false);
});

test('invalid sources', () => {
  assert.match(parseSource('messages') as string, /must start with '\/'/);
  assert.match(parseSource('/messages//modules') as string, /empty segment/);
  assert.match(parseSource('//') as string, /empty segment/);
  assert.match(parseSource('/messages/(x)') as string, /invalid character "\("/);
  assert.match(parseSource('/a"b') as string, /invalid character/);
});

test('which sources receive twin change notifications', () => {
  const receives = (text: string) => receivesTwinChanges(source(text));
  assert.equal(receives('/*'), true);
  assert.equal(receives('/twinChangeNotifications'), true);
  assert.equal(receives('/twinchangenotifications/*'), true);
  assert.equal(receives('/messages/*'), false);
  assert.equal(receives('/twinChangeNotificationsX'), false);
});
