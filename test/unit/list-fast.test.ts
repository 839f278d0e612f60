import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListArgs } from '../../src/cli/list-fast.js';

const DEFAULT = 'unix:///var/run/iotedge/mgmt.sock';

test('the plain forms of list flags are parsed; IOTEDGE_HOST and then the default give the host', () => {
  assert.deepEqual(parseListArgs(['list'], {}), { host: DEFAULT, json: false });
  assert.deepEqual(parseListArgs(['list'], { IOTEDGE_HOST: '' }), { host: DEFAULT, json: false });
  assert.deepEqual(parseListArgs(['list'], { IOTEDGE_HOST: 'unix:///e.sock' }), {
    host: 'unix:///e.sock',
    json: false,
  });
  assert.deepEqual(
    parseListArgs(['list', '--json', '-H', 'unix:///a.sock'], { IOTEDGE_HOST: 'unix:///e.sock' }),
    {
      host: 'unix:///a.sock',
      json: true,
    },
  );
  assert.deepEqual(parseListArgs(['list', '--host', 'unix:///b.sock'], {}), {
    host: 'unix:///b.sock',
    json: false,
  });
  assert.deepEqual(parseListArgs(['list', '--host=unix:///c.sock'], {}), {
    host: 'unix:///c.sock',
    json: false,
  });
  assert.deepEqual(parseListArgs(['list', '-H=unix:///d.sock', '--json'], {}), {
    host: 'unix:///d.sock',
    json: true,
  });
});

test('anything else is left to oclif', () => {
  for (const args of [
    [],
    ['logs'],
    ['list', '-h'],
    ['list', '--help'],
    ['list', '-H'],
    ['list', '-H', '--json'],
    ['list', '--jsn'],
    ['list', 'extra'],
  ]) {
    assert.equal(parseListArgs(args, {}), undefined, args.join(' '));
  }
});
