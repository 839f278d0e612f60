import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError } from '../../src/cli/cli-error.js';
import { applyGlobalArgs, extractHost } from '../../src/cli/global-args.js';

test('-H/--host is taken out before or after the subcommand, topics included', () => {
  assert.deepEqual(extractHost(['-H', 'unix:///s', 'list']), { args: ['list'], host: 'unix:///s' });
  assert.deepEqual(extractHost(['logs', 'm', '-H', 'unix:///s', '-f']), {
    args: ['logs', 'm', '-f'],
    host: 'unix:///s',
  });
  assert.deepEqual(extractHost(['-H', 'unix:///s', 'identity', 'list', '--json']), {
    args: ['identity', 'list', '--json'],
    host: 'unix:///s',
  });
  assert.deepEqual(extractHost(['system', 'status', '--host', 'http://127.0.0.1:9']), {
    args: ['system', 'status'],
    host: 'http://127.0.0.1:9',
  });
});

test('every form of the option is accepted', () => {
  for (const form of [['--host=unix:///s'], ['-Hunix:///s'], ['-H=unix:///s'], ['--host', 'unix:///s']]) {
    assert.deepEqual(extractHost(['restart', ...form, 'a']), { args: ['restart', 'a'], host: 'unix:///s' });
  }
});

test('arguments without a host are untouched; those after -- belong to the command', () => {
  assert.deepEqual(extractHost(['check', '--verbose']), { args: ['check', '--verbose'] });
  assert.deepEqual(extractHost([]), { args: [] });
  assert.deepEqual(extractHost(['system', 'logs', '--', '-H', 'x']), {
    args: ['system', 'logs', '--', '-H', 'x'],
  });
  assert.deepEqual(extractHost(['list', '-h']), { args: ['list', '-h'] }, '-h is help, not the host');
});

test('a host without a value, or given twice, is a usage error naming the option', () => {
  for (const args of [['-H'], ['list', '--host'], ['list', '-H', '--json']]) {
    assert.throws(
      () => extractHost(args),
      (error: unknown) =>
        error instanceof CliError &&
        error.message === "The argument '--host <HOST>' requires a value but none was supplied",
      args.join(' '),
    );
  }
  assert.throws(
    () => extractHost(['-H', 'unix:///a', 'list', '-H', 'unix:///b']),
    /The argument '--host <HOST>' was provided more than once/,
  );
});

test('applyGlobalArgs hands the host to the commands through IOTEDGE_HOST, over an inherited one', () => {
  const env: NodeJS.ProcessEnv = { IOTEDGE_HOST: 'unix:///from-env.sock' };
  assert.deepEqual(applyGlobalArgs(['-H', 'unix:///flag.sock', 'list'], env), ['list']);
  assert.equal(env.IOTEDGE_HOST, 'unix:///flag.sock');
  const untouched: NodeJS.ProcessEnv = { IOTEDGE_HOST: 'unix:///from-env.sock' };
  assert.deepEqual(applyGlobalArgs(['list'], untouched), ['list']);
  assert.equal(untouched.IOTEDGE_HOST, 'unix:///from-env.sock');
});
