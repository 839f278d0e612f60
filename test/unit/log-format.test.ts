import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  formatLogLine,
  LineSplitter,
  parseLogLine,
  withinWindow,
} from '../../src/runtime/modules/process/log-format.js';

test('a stored line is `<RFC 3339 time> <O|E> <text>` and parses back', () => {
  const time = new Date('2030-05-06T07:08:09.123Z');
  assert.equal(
    formatLogLine({ time, stream: 'stdout', text: 'hello  world: 1' }),
    '2030-05-06T07:08:09.123Z O hello  world: 1\n',
  );
  assert.equal(formatLogLine({ time, stream: 'stderr', text: '' }), '2030-05-06T07:08:09.123Z E \n');
  assert.deepEqual(parseLogLine('2030-05-06T07:08:09.123Z E oops E x'), {
    time,
    stream: 'stderr',
    text: 'oops E x',
  });
  assert.deepEqual(parseLogLine('2030-05-06T07:08:09.123Z O '), { time, stream: 'stdout', text: '' });
  assert.deepEqual(parseLogLine('2030-05-06T07:08:09.123456789Z O nanos')?.time, time);
});

test('anything else is not a stored line', () => {
  for (const raw of [
    '',
    'hello',
    '2030-05-06T07:08:09.123Z X text',
    '2030-05-06T07:08:09.123Z Otext',
    '2030-13-45T07:08:09Z O x',
  ]) {
    assert.equal(parseLogLine(raw), undefined, raw);
  }
});

test('the splitter holds back an unfinished line and drops carriage returns', () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push('one\ntw'), ['one']);
  assert.deepEqual(splitter.push('o\r\nthree\n\nfour'), ['two', 'three', '']);
  assert.deepEqual(splitter.push(''), []);
  assert.deepEqual(splitter.flush(), ['four']);
  assert.deepEqual(splitter.flush(), []);
});

test('the splitter cuts lines longer than its maximum, finished or not', () => {
  const splitter = new LineSplitter(4);
  assert.deepEqual(splitter.push('abcdefghij\nxy'), ['abcd', 'efgh', 'ij']);
  assert.deepEqual(splitter.push('zwvu'), ['xyzw']);
  assert.deepEqual(splitter.flush(), ['vu']);
});

test('since and until are unix seconds, both inclusive', () => {
  const at = (iso: string) => new Date(iso);
  const since = Date.parse('2030-01-01T00:00:10Z') / 1000;
  const until = Date.parse('2030-01-01T00:00:20Z') / 1000;
  assert.equal(withinWindow(at('2030-01-01T00:00:09.999Z'), since, until), false);
  assert.equal(withinWindow(at('2030-01-01T00:00:10.000Z'), since, until), true);
  assert.equal(withinWindow(at('2030-01-01T00:00:20.000Z'), since, until), true);
  assert.equal(withinWindow(at('2030-01-01T00:00:20.001Z'), since, until), false);
  assert.equal(withinWindow(at('1970-01-01T00:00:00Z')), true);
});
