import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  isNewUpstream,
  LOCAL,
  nextOrigin,
  readStored,
  storedForm,
  upstreamManifest,
  type DeploymentOrigin,
  type UpstreamVersions,
} from '../../src/runtime/agent/deployment-origin.js';
import { UpstreamDeployments } from '../../src/runtime/agent/upstream-deployments.js';

describe('where a deployment came from', () => {
  test("an upstream manifest is $edgeAgent's and $edgeHub's desired properties without their $-keys", () => {
    assert.deepEqual(
      upstreamManifest({ modules: {}, $version: 3, $metadata: {} }, { routes: { r: 'x' }, $version: 2 }),
      {
        modulesContent: {
          $edgeAgent: { 'properties.desired': { modules: {} } },
          $edgeHub: { 'properties.desired': { routes: { r: 'x' } } },
        },
      },
    );
  });

  test('newest wins: an upstream deployment is new unless it was the last applied or the last tried', () => {
    const v = (edgeAgent: number, edgeHub: number): UpstreamVersions => ({ edgeAgent, edgeHub });
    assert.equal(isNewUpstream(v(2, 2), undefined, undefined), true);
    assert.equal(isNewUpstream(v(2, 2), v(2, 2), undefined), false, 'a reconnection delivers the same again');
    assert.equal(
      isNewUpstream(v(3, 2), v(2, 2), v(3, 2)),
      false,
      'rejected once: not again until it changes',
    );
    assert.equal(isNewUpstream(v(2, 3), v(2, 2), v(3, 2)), true);
    // a local deployment keeps the versions of the last upstream one, so the same desired does not replace it
    const afterLocal = nextOrigin({ source: 'upstream', upstream: v(2, 2) }, 'local');
    assert.deepEqual(afterLocal, { source: 'local', upstream: v(2, 2) });
    assert.equal(isNewUpstream(v(2, 2), afterLocal.upstream, undefined), false);
    assert.deepEqual(nextOrigin(LOCAL, 'local'), LOCAL);
  });

  test('deployment.json: a purely local deployment stays the bare manifest; else it is wrapped with its origin', () => {
    const document = { modulesContent: {} };
    assert.equal(storedForm(document, LOCAL), document);
    assert.deepEqual(readStored(document), { document, origin: LOCAL });
    for (const origin of [
      { source: 'upstream', upstream: { edgeAgent: 4, edgeHub: 2 } },
      { source: 'local', upstream: { edgeAgent: 4, edgeHub: 2 } },
    ] as DeploymentOrigin[])
      assert.deepEqual(readStored(JSON.parse(JSON.stringify(storedForm(document, origin)))), {
        document,
        origin,
      });
    assert.equal(readStored(undefined), undefined);
  });
});

describe('deployments from upstream', () => {
  const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

  function fakeAgent(code = 200) {
    const deployed: { document: unknown; versions: UpstreamVersions }[] = [];
    const agent = {
      origin: LOCAL as DeploymentOrigin,
      async deploy(document: unknown, versions: UpstreamVersions) {
        deployed.push({ document, versions });
        if (code === 200) agent.origin = { source: 'upstream', upstream: versions };
        return { code, reported: {} };
      },
    };
    return { agent, deployed };
  }

  test('the two twins are deployed together once both are known and settled, and only when new', async () => {
    const { agent, deployed } = fakeAgent();
    const log: string[] = [];
    const upstream = new UpstreamDeployments(agent, (line) => log.push(line));
    upstream.edgeAgentDesired({ modules: { a: {} }, $version: 2 });
    await settle();
    assert.equal(deployed.length, 0, '$edgeHub not heard yet');
    upstream.edgeHubDesired({ routes: {}, $version: 1 });
    upstream.edgeAgentDesired({ modules: { b: {} }, $version: 3 });
    await settle();
    await upstream.settled();
    assert.deepEqual(
      deployed.map((d) => d.versions),
      [{ edgeAgent: 3, edgeHub: 1 }],
      'one deployment of the newest pair',
    );
    upstream.edgeAgentDesired({ modules: { b: {} }, $version: 3 });
    await settle();
    assert.equal(deployed.length, 1, 'the same versions again: nothing');
    assert.match(log.join('\n'), /edgeAgent desired version 3, edgeHub 1\) applied/);
  });

  test('nothing is deployed while upstream holds no deployment; a rejected one is not tried again unchanged', async () => {
    const { agent, deployed } = fakeAgent(400);
    const log: string[] = [];
    const upstream = new UpstreamDeployments(agent, (line) => log.push(line));
    upstream.edgeHubDesired({ $version: 1 });
    upstream.edgeAgentDesired({ $version: 1 });
    await settle();
    assert.equal(deployed.length, 0);
    assert.match(log.join('\n'), /holds no deployment/);
    upstream.edgeAgentDesired({ modules: {}, $version: 2 });
    await settle();
    await upstream.settled();
    upstream.edgeAgentDesired({ modules: {}, $version: 2 });
    await settle();
    assert.equal(deployed.length, 1);
    assert.match(log.join('\n'), /rejected \(400\)/);
  });
});
