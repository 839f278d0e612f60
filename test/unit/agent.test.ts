import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';

import { Agent } from '../../src/runtime/agent/agent.js';
import { AgentStore } from '../../src/runtime/agent/store.js';
import type { Deployment } from '../../src/runtime/deployment/manifest.js';
import { FakeRuntime } from '../helpers/fake-runtime.js';
import { manifestWith, type Json } from '../helpers/manifest-fixture.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('iotedge-agent-');
const agents: Agent[] = [];
afterEach(() => Promise.all(agents.splice(0).map((agent) => agent.shutdown())));

/** A deployment of process modules, each running `/bin/<name>`. */
function deployment(...names: string[]) {
  const modules: Record<string, Json> = {};
  for (const name of names)
    modules[name] = { type: 'process', status: 'running', settings: { command: `/bin/${name}` } };
  return manifestWith({ modules });
}

/** An agent over `runtime` and a store in a new directory (holding `stored`, when given), started. */
async function startAgent(runtime = new FakeRuntime(), stored?: unknown) {
  const homedir = await tempDir();
  const store = new AgentStore(`${homedir}/agent`);
  if (stored !== undefined) await store.saveDeployment(stored);
  const announced: Deployment[] = [];
  const agent = new Agent({
    runtimes: { process: runtime },
    store,
    envContext: {
      deviceId: 'dev1',
      iothubHostname: 'hub.example.net',
      gatewayHostname: 'gateway',
      homedir,
      workloadApiVersion: '2019-01-30',
      runtimeLogLevel: 'info',
    },
    agentVersion: '0.0.0',
    daemonVersion: '0.0.0',
    agentImage: 'agent:1',
    // reconciles run when the test asks, not on a timer
    periodMs: 3_600_000,
    stopGraceMs: 10,
    onDeployment: async (applied) => void announced.push(applied),
    log: () => undefined,
  });
  agents.push(agent);
  await agent.start();
  return { agent, runtime, announced };
}

const status = (agent: Agent) => agent.reported().lastDesiredStatus as { code: number; description: string };

test('an accepted deployment is 200: its modules are created and started, and it is announced', async () => {
  const { agent, runtime, announced } = await startAgent();
  const result = await agent.deploy(deployment('a', 'b'));
  assert.equal(result.code, 200);
  assert.deepEqual(status(agent), { code: 200, description: '' });
  assert.deepEqual(runtime.running().sort(), ['a', 'b']);
  assert.ok(
    runtime.calls.includes('create a') && runtime.calls.includes('start a'),
    runtime.calls.join(', '),
  );
  assert.deepEqual(
    announced.map((applied) => applied.modules.map((spec) => spec.name).sort()),
    [['a', 'b']],
  );
  assert.equal(agent.reported().lastDesiredVersion, 1);
});

test('a malformed deployment is 400 naming the field; the previous one keeps running', async () => {
  const { agent, runtime } = await startAgent();
  await agent.deploy(deployment('a'));
  const calls = runtime.calls.length;
  const malformed = manifestWith({
    modules: {
      b: { type: 'process', status: 'running', restartPolicy: 'sometimes', settings: { command: '/bin/b' } },
    },
  });
  const result = await agent.deploy(malformed);
  assert.equal(result.code, 400);
  assert.match(status(agent).description, /^modules\.b\.restartPolicy: /);
  assert.deepEqual(runtime.running(), ['a']);
  assert.deepEqual(
    Object.keys(agent.reported().modules as object),
    ['a'],
    'the reported modules are the previous ones',
  );
  assert.equal(runtime.calls.length, calls, 'nothing was created, stopped or removed');
  await agent.reconcile();
  assert.equal(status(agent).code, 400, 'the rejection stays across a reconcile');
  assert.equal((await agent.deploy(deployment('a'))).code, 200, 'a new deployment replaces it');
});

test('a failing step is 500 naming it; once it works again the status is 200', async () => {
  const runtime = new FakeRuntime();
  runtime.failing.set('b', 'no such program');
  const { agent } = await startAgent(runtime);
  const result = await agent.deploy(deployment('a', 'b'));
  assert.equal(result.code, 500);
  assert.deepEqual(status(agent), { code: 500, description: 'create b: no such program' });
  assert.deepEqual(runtime.running(), ['a'], 'the other module runs regardless');
  await agent.reconcile();
  assert.equal(status(agent).code, 500, 'still failing');
  runtime.failing.delete('b');
  await agent.reconcile();
  assert.deepEqual(status(agent), { code: 200, description: '' });
  assert.deepEqual(runtime.running().sort(), ['a', 'b']);
});

test('an empty configuration is 417 and stays across reconciles, even failing ones', async () => {
  const { agent, runtime } = await startAgent();
  await agent.deploy(deployment('a'));
  const result = await agent.deploy({ modulesContent: { $edgeAgent: { 'properties.desired': {} } } });
  assert.equal(result.code, 417);
  await agent.reconcile();
  // the module disappears and cannot be created again: a failing step under a rejection
  runtime.failing.set('a', 'cannot create');
  runtime.modules.delete('a');
  const tried = runtime.calls.length;
  await agent.reconcile();
  await agent.reconcile();
  assert.ok(runtime.calls.slice(tried).includes('create a'), 'the create was tried and failed');
  assert.equal(status(agent).code, 417);
  assert.match(status(agent).description, /empty configuration/);
});

test('a runtime that cannot be reached is 500 naming it and its modules; 200 once it answers', async () => {
  const { agent, runtime } = await startAgent();
  await agent.deploy(deployment('a'));
  runtime.down = 'connect ENOENT /run/engine.sock';
  await agent.reconcile();
  assert.deepEqual(status(agent), {
    code: 500,
    description: 'cannot reach process runtime: connect ENOENT /run/engine.sock (modules a)',
  });
  runtime.down = undefined;
  await agent.reconcile();
  assert.equal(status(agent).code, 200);
});

test('a rejected stored deployment at start is reported; nothing runs', async () => {
  const { agent, runtime, announced } = await startAgent(
    new FakeRuntime(),
    manifestWith({ schemaVersion: '2.0' }),
  );
  assert.equal(status(agent).code, 412);
  assert.deepEqual(runtime.calls, []);
  assert.deepEqual(announced, []);
});

test('after shutdown a deployment is answered 406 and changes nothing', async () => {
  const { agent, runtime, announced } = await startAgent();
  await agent.deploy(deployment('a'));
  await agent.shutdown();
  assert.deepEqual(runtime.running(), [], 'shutdown stops the modules');
  const calls = runtime.calls.length;
  const result = await agent.deploy(deployment('a', 'b'));
  assert.equal(result.code, 406);
  assert.deepEqual(result.reported.lastDesiredStatus, { code: 406, description: 'Agent is not running' });
  assert.equal(runtime.calls.length, calls);
  assert.equal(announced.length, 1);
  assert.deepEqual(Object.keys(agent.reported().modules as object), ['a']);
});
