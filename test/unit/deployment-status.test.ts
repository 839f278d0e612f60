import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  accepted,
  APPLIED,
  NOT_RUNNING,
  reconciled,
  rejected,
} from '../../src/runtime/agent/deployment-status.js';
import { DeploymentError } from '../../src/runtime/deployment/deployment-error.js';

const clean = { problems: [], blocked: [] };
const failing = (...problems: string[]) => ({ problems, blocked: [] });

test('an accepted deployment is 200 with no description', () => {
  assert.deepEqual(accepted(), { code: 200, description: '' });
  assert.deepEqual(APPLIED, accepted());
});

test('a rejection carries the error code and message', () => {
  assert.deepEqual(rejected(new DeploymentError(400, 'modules.a.status: expected a string')), {
    code: 400,
    description: 'modules.a.status: expected a string',
  });
  assert.deepEqual(rejected(new DeploymentError(412, 'schemaVersion: missing')), {
    code: 412,
    description: 'schemaVersion: missing',
  });
});

test('a reconcile with failed steps is 500 naming each; a clean one after it is 200 again', () => {
  const failed = reconciled(APPLIED, failing('create a: boom', 'pull b: denied'));
  assert.deepEqual(failed, { code: 500, description: 'create a: boom; pull b: denied' });
  assert.deepEqual(reconciled(failed, failing('create a: boom')), {
    code: 500,
    description: 'create a: boom',
  });
  assert.deepEqual(reconciled(failed, clean), APPLIED);
  assert.deepEqual(reconciled(APPLIED, clean), APPLIED);
});

test('a rejection (400, 412, 417) stays across reconciles, failing or not', () => {
  for (const code of [400, 412, 417] as const) {
    const status = rejected(new DeploymentError(code, `refused ${code}`));
    assert.deepEqual(reconciled(status, clean), status);
    assert.deepEqual(reconciled(status, failing('create a: boom')), status);
    assert.deepEqual(reconciled(reconciled(status, clean), clean), { code, description: `refused ${code}` });
  }
});

test('a 500 in a rejected error is no lasting rejection: the next reconcile decides', () => {
  const status = rejected(new DeploymentError(500, 'a step failed'));
  assert.equal(status.code, 500);
  assert.deepEqual(reconciled(status, clean), APPLIED);
});

test('an unreachable runtime is 500 naming each reason once and every module it holds', () => {
  const blocked = [
    { module: 'a', reason: 'docker runtime: connect ENOENT /run/docker.sock' },
    { module: 'b', reason: 'docker runtime: connect ENOENT /run/docker.sock' },
  ];
  assert.deepEqual(reconciled(APPLIED, { problems: ['create c: boom'], blocked }), {
    code: 500,
    description: 'cannot reach docker runtime: connect ENOENT /run/docker.sock (modules a, b)',
  });
  // reported even over a rejection, which is not restored once the runtime answers
  const refused = rejected(new DeploymentError(417, 'empty configuration'));
  const unreachable = reconciled(refused, { problems: [], blocked });
  assert.equal(unreachable.code, 500);
  assert.deepEqual(reconciled(unreachable, clean), APPLIED);
});

test('a deployment sent to an agent that is not running is answered 406', () => {
  assert.deepEqual(NOT_RUNNING, { code: 406, description: 'Agent is not running' });
  assert.deepEqual(reconciled(NOT_RUNNING, failing('create a: boom')), NOT_RUNNING);
});
