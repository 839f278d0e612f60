import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHECKS } from '../../src/checks/catalog.js';
import { CliError, errorText, wantsJson } from '../../src/cli/cli-error.js';
import { closestCommand, editDistance, notFoundMessage } from '../../src/cli/did-you-mean.js';
import { checkListJson, versionJson } from '../../src/cli/plain-outputs.js';
import { progressMode } from '../../src/cli/progress-mode.js';

/** The pure parts of the CLI's output conventions: JSON errors, did-you-mean, when a spinner shows. */

test('a failure under --json is one JSON line naming the message and the exit code', () => {
  assert.equal(errorText('no such module', 1, false), 'no such module\n');
  const line = errorText('no such module', 3, true);
  assert.equal(line.split('\n').length, 2);
  assert.deepEqual(JSON.parse(line), { error: { message: 'no such module', exitCode: 3 } });
  assert.equal(new CliError('x').exitCode, 1);
  assert.equal(new CliError('x', 2).exitCode, 2);
});

test('--json counts only before --', () => {
  assert.equal(wantsJson(['list', '--json']), true);
  assert.equal(wantsJson(['list']), false);
  assert.equal(wantsJson(['send', 'd', '--', '--json']), false);
});

test('the closest command is suggested when it is near, and nothing when none is', () => {
  assert.equal(editDistance('lsit', 'list'), 2);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('check', 'check'), 0);
  const commands = ['check', 'check-list', 'list', 'logs', 'identity list', 'system status', 'version'];
  assert.equal(closestCommand('lsit', commands), 'list');
  assert.equal(closestCommand('chek', commands), 'check');
  assert.equal(closestCommand('identity lsit', commands), 'identity list');
  assert.equal(closestCommand('sytem status', commands), 'system status');
  assert.equal(closestCommand('xyzzyq', commands), undefined);
  assert.equal(
    notFoundMessage('lsit', 'list', 'iotedge'),
    "lsit is not an iotedge command. Did you mean list?\nRun 'iotedge help' for a list of available commands.\n",
  );
  assert.equal(
    notFoundMessage('identity lsit', 'identity list', 'iotedge', 'identity'),
    "identity lsit is not an iotedge command. Did you mean identity list?\nRun 'iotedge help identity' for a list of available commands.\n",
  );
  assert.doesNotMatch(notFoundMessage('qqq', undefined, 'iotedge'), /Did you mean/);
});

test('a spinner only on a terminal on both streams, never with --json, in CI or on a dumb terminal', () => {
  const base = { stdoutTty: true, stderrTty: true, columns: 80, json: false, lines: false, env: {} };
  assert.equal(progressMode(base), 'spinner');
  assert.equal(progressMode({ ...base, json: true }), 'silent');
  assert.equal(progressMode({ ...base, stdoutTty: false }), 'silent');
  assert.equal(progressMode({ ...base, stderrTty: false, lines: true }), 'lines');
  assert.equal(progressMode({ ...base, env: { CI: 'true' }, lines: true }), 'lines');
  assert.equal(progressMode({ ...base, env: { TERM: 'dumb' } }), 'silent');
  assert.equal(progressMode({ ...base, columns: 0, lines: true }), 'lines', 'a terminal of unknown width');
  assert.equal(progressMode({ ...base, json: true, stdoutTty: false, lines: true }), 'silent');
});

test('version --json and check-list --json shapes', () => {
  const version = versionJson();
  assert.equal(version.name, 'iotedge');
  assert.match(version.version, /^\d+\.\d+\.\d+/);
  const list = checkListJson(CHECKS);
  assert.equal(list.checks.length, CHECKS.length);
  for (const check of list.checks) {
    assert.deepEqual(Object.keys(check), ['id', 'category', 'description', 'aliases']);
    assert.ok(Array.isArray(check.aliases));
  }
});
