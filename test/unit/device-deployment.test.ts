import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DeploymentError } from '../../src/runtime/deployment/deployment-error.js';
import { parseDeviceDeployment } from '../../src/runtime/deployment/device-deployment.js';

const agent = { 'properties.desired': { schemaVersion: '9.9', anything: ['the child judges it'] } };
const hub = { 'properties.desired': { routes: { r: 'not even a route' } } };

/** The 400 message a broken manifest gets. */
function refusal(document: unknown): string {
  try {
    parseDeviceDeployment(document);
  } catch (error) {
    assert.ok(error instanceof DeploymentError);
    assert.equal(error.code, 400);
    return error.message;
  }
  assert.fail('accepted');
}

test('a deployment for a child is read for its shape only, in every wrapping a manifest comes in', () => {
  const content = { $edgeAgent: agent, $edgeHub: hub, filter: { 'properties.desired': { threshold: 1 } } };
  const expected = {
    $edgeAgent: agent['properties.desired'],
    $edgeHub: hub['properties.desired'],
    filter: { threshold: 1 },
  };
  assert.deepEqual(parseDeviceDeployment({ modulesContent: content }), expected);
  assert.deepEqual(parseDeviceDeployment({ content: { modulesContent: content } }), expected);
  assert.deepEqual(parseDeviceDeployment(content), expected);
});

test('a broken deployment for a child is refused naming the field', () => {
  assert.match(refusal([]), /^\(manifest\): expected a JSON object, found an array/);
  assert.match(refusal({ modulesContent: { $edgeHub: hub } }), /^\$edgeAgent: missing/);
  assert.match(refusal({ modulesContent: { $edgeAgent: agent } }), /^\$edgeHub: missing/);
  assert.match(
    refusal({ modulesContent: { $edgeAgent: agent, $edgeHub: { 'properties.desired': 3 } } }),
    /^\$edgeHub\.properties\.desired: expected an object, found an integer/,
  );
  assert.match(
    refusal({ modulesContent: { $edgeAgent: agent, $edgeHub: hub, filter: {} } }),
    /^filter: missing "properties\.desired"/,
  );
  assert.match(
    refusal({ modulesContent: { $edgeAgent: agent, $edgeHub: hub, 'a/b': { 'properties.desired': {} } } }),
    /^a\/b: a module name has at most 128 characters/,
  );
  let deep: unknown = {};
  for (let level = 0; level < 40; level++) deep = { deeper: deep };
  assert.match(
    refusal({ modulesContent: { $edgeAgent: agent, $edgeHub: hub, m: deep } }),
    /nested more than/,
  );
});
