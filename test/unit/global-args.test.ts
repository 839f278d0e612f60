import assert from 'node:assert/strict';
import { test } from 'node:test';
import { moveLeadingHost } from '../../src/cli/global-args.js';

test('a leading -H/--host moves behind the command', () => {
  assert.deepEqual(moveLeadingHost(['-H', 'unix:///s', 'list']), ['list', '-H', 'unix:///s']);
  assert.deepEqual(moveLeadingHost(['--host', 'unix:///s', 'logs', 'm', '-f']), [
    'logs',
    '--host',
    'unix:///s',
    'm',
    '-f',
  ]);
  assert.deepEqual(moveLeadingHost(['--host=unix:///s', 'restart', 'a']), [
    'restart',
    '--host=unix:///s',
    'a',
  ]);
  assert.deepEqual(moveLeadingHost(['-Hunix:///s', 'list']), ['list', '-Hunix:///s']);
});

test('topic commands keep their two words together', () => {
  assert.deepEqual(moveLeadingHost(['-H', 'unix:///s', 'system', 'status']), [
    'system',
    'status',
    '-H',
    'unix:///s',
  ]);
});

test('arguments without a leading host are untouched', () => {
  assert.deepEqual(moveLeadingHost(['list', '-H', 'unix:///s']), ['list', '-H', 'unix:///s']);
  assert.deepEqual(moveLeadingHost(['check', '--verbose']), ['check', '--verbose']);
  assert.deepEqual(moveLeadingHost(['-H']), ['-H'], 'a host option without a value is left for the parser');
  assert.deepEqual(moveLeadingHost([]), []);
});
