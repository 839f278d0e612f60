import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deploymentSummary, lastDesiredStatus, refusalMessage } from '../../src/cli/deploy-output.js';
import { noChanges, type DeploymentChanges } from '../../src/runtime/agent/deployment-changes.js';
import {
  configSourceWarning,
  decodeDeploymentNotes,
  encodeDeploymentNotes,
} from '../../src/runtime/daemon/deployment-notes.js';

const none: DeploymentChanges = noChanges();

test('the summary is one line naming each kind of change', () => {
  const changes = {
    ...none,
    added: ['tempSensor'],
    updated: ['filter'],
    removed: ['old'],
    stopped: ['idle'],
    desiredProperties: ['$edgeHub'],
    unchanged: 2,
  };
  assert.equal(
    deploymentSummary(changes, {}),
    'Deployment accepted: added 1 (tempSensor), updated 1 (filter), removed 1 (old), stopped 1 (idle), ' +
      'new desired properties for 1 ($edgeHub), 2 unchanged\n',
  );
  assert.equal(deploymentSummary({ ...none, started: ['a'] }, {}), 'Deployment accepted: started 1 (a)\n');
  assert.equal(
    deploymentSummary({ ...none, unchanged: 3 }, {}),
    'Deployment accepted: no changes, 3 unchanged\n',
  );
});

test('long lists name five modules and count the rest', () => {
  const added = Array.from({ length: 8 }, (_, i) => `m${i}`);
  assert.equal(
    deploymentSummary({ ...none, added }, {}),
    'Deployment accepted: added 8 (m0, m1, m2, m3, m4 and 3 more)\n',
  );
});

test('without the daemon account of the changes, the number of reported modules', () => {
  assert.equal(
    deploymentSummary(undefined, { modules: { a: {}, b: {} } }),
    'Deployment accepted: 2 module(s)\n',
  );
  assert.equal(deploymentSummary(undefined, {}), 'Deployment accepted: 0 module(s)\n');
});

test("a refusal shows the agent's description from the reported properties", () => {
  const reported = {
    lastDesiredStatus: {
      code: 400,
      description:
        'modules.ticker.restartPolicy: unknown value "sometimes", expected one of never, on-failure',
    },
  };
  assert.equal(
    refusalMessage(400, reported, 'The IoT Edge daemon answered 400 Bad Request'),
    'Deployment failed (400): modules.ticker.restartPolicy: unknown value "sometimes", expected one of never, on-failure',
  );
  assert.equal(
    refusalMessage(413, { message: 'Request body is too large' }, 'Request body is too large'),
    'Deployment failed (413): Request body is too large',
  );
  assert.equal(
    refusalMessage(400, { message: 'no modulesContent', code: 417 }, 'no modulesContent'),
    'Deployment failed (417): no modulesContent',
  );
  assert.deepEqual(lastDesiredStatus({ lastDesiredStatus: { code: 500 } }), { code: 500, description: '' });
  assert.equal(lastDesiredStatus({ lastDesiredStatus: { code: '500' } }), undefined);
  assert.equal(lastDesiredStatus({}), undefined);
});

test('deployment notes survive the header encoding, non-ASCII names included', () => {
  const notes = {
    changes: { ...none, added: ['capteur-température'], unchanged: 1 },
    warnings: [configSourceWarning('/etc/iotedge/déploiement.json')],
  };
  const header = encodeDeploymentNotes(notes);
  assert.match(header, /^[\x20-\x7e]+$/, 'a header value is printable ASCII');
  assert.deepEqual(decodeDeploymentNotes(header), notes);
});

test('malformed or missing notes read as none', () => {
  for (const header of [
    undefined,
    '',
    'not json',
    '[]',
    '{"changes": {"added": "a"}}',
    '{"warnings": [1]}',
  ]) {
    assert.deepEqual(decodeDeploymentNotes(header), {}, String(header));
  }
});

test('the config source warning names the file and when it takes over', () => {
  assert.equal(
    configSourceWarning('/etc/iotedge/deployment.json'),
    'config.yaml sets agent.env.ConfigSource to local: the deployment in /etc/iotedge/deployment.json ' +
      'will replace this one at the next SIGHUP or restart of iotedged',
  );
});
