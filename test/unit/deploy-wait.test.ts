import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DeploymentWatch,
  failedMessage,
  moduleView,
  progressLine,
  runningLine,
  timeoutMessage,
} from '../../src/cli/deploy-wait.js';

/** `deploy --wait`'s judgement of the agent's reported properties, clock in hand. */

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function reported(modules: Record<string, Record<string, unknown>>, hub: Record<string, unknown> = {}) {
  return {
    systemModules: {
      edgeAgent: { runtimeStatus: 'running' },
      edgeHub: { status: 'running', runtimeStatus: 'running', lastStartTimeUtc: iso(T0 - 60_000), ...hub },
    },
    modules,
  };
}

const up = (startMs: number) => ({
  status: 'running',
  runtimeStatus: 'running',
  lastStartTimeUtc: iso(startMs),
});

test('each runtime status reads as running, failed, stopped as meant, or pending', () => {
  const view = (module: Record<string, unknown>) => moduleView('m', { status: 'running', ...module });
  assert.equal(view({ runtimeStatus: 'running' }).state, 'running');
  assert.deepEqual(view({ runtimeStatus: 'failed', exitCode: 7, statusDescription: 'exited with code 7' }), {
    name: 'm',
    state: 'failed',
    reason: 'failed, exit code 7',
  });
  assert.equal(
    view({ runtimeStatus: 'failed', exitCode: 1, statusDescription: 'Error: ENOENT spawn /nope' }).reason,
    'failed, exit code 1: Error: ENOENT spawn /nope',
  );
  assert.equal(view({ runtimeStatus: 'dead' }).state, 'failed');
  assert.match(view({ runtimeStatus: 'backoff', exitCode: 3 }).reason, /backoff.*exit code 3/);
  assert.equal(view({ runtimeStatus: 'stopped', exitCode: 0 }).state, 'stopped');
  assert.equal(view({ runtimeStatus: 'stopped', exitCode: 2 }).state, 'failed');
  assert.equal(view({ runtimeStatus: 'unknown', statusDescription: 'not created' }).state, 'pending');
  assert.equal(view({ runtimeStatus: 'unhealthy' }).state, 'pending');
  // desired stopped: settled once it does not run
  assert.equal(moduleView('m', { status: 'stopped', runtimeStatus: 'stopped' }).state, 'stopped');
  assert.equal(moduleView('m', { status: 'stopped', runtimeStatus: 'running' }).state, 'pending');
});

test('a module that just started is pending until it stays up for the settle period', () => {
  const watch = new DeploymentWatch(2000);
  const first = watch.observe(reported({ alpha: up(T0) }), T0 + 100);
  assert.equal(first.outcome, 'pending');
  assert.deepEqual(
    first.modules.map((module) => [module.name, module.state]),
    [
      ['edgeHub', 'running'],
      ['alpha', 'pending'],
    ],
  );
  assert.equal(progressLine(first), 'Waiting for modules: 1 of 2 running; alpha (just started)');
  assert.equal(watch.observe(reported({ alpha: up(T0) }), T0 + 1500).outcome, 'pending');
  const later = watch.observe(reported({ alpha: up(T0) }), T0 + 3100);
  assert.equal(later.outcome, 'running');
  assert.equal(runningLine(later), 'Modules running: 2 of 2');
});

test('a restart in between starts the settle period again', () => {
  const watch = new DeploymentWatch(2000);
  watch.observe(reported({ alpha: up(T0) }), T0 + 500);
  const restarted = watch.observe(reported({ alpha: up(T0 + 2000) }), T0 + 2600);
  assert.equal(restarted.outcome, 'pending');
  assert.equal(watch.observe(reported({ alpha: up(T0 + 2000) }), T0 + 5100).outcome, 'running');
});

test('one failed module fails the wait, naming it and why', () => {
  const watch = new DeploymentWatch(2000);
  const verdict = watch.observe(
    reported({
      alpha: up(T0 - 10_000),
      crash: {
        status: 'running',
        runtimeStatus: 'failed',
        exitCode: 7,
        statusDescription: 'exited with code 7',
      },
    }),
    T0,
  );
  assert.equal(verdict.outcome, 'failed');
  assert.equal(failedMessage(verdict), 'Deployment did not run: crash (failed, exit code 7)');
});

test('a module stopped on purpose counts as settled; the timeout message names who is still waited for', () => {
  const watch = new DeploymentWatch(0);
  const verdict = watch.observe(
    reported({ job: { status: 'running', runtimeStatus: 'stopped', exitCode: 0 }, alpha: up(T0) }),
    T0,
  );
  assert.equal(verdict.outcome, 'running');
  assert.equal(
    runningLine(verdict),
    'Modules running: 2 of 3; stopped: job (exited with code 0, not restarted)',
  );
  const pending = new DeploymentWatch(2000).observe(reported({ alpha: up(T0) }), T0);
  assert.equal(
    timeoutMessage(pending, 30),
    "Timed out after 30 s waiting for the deployment's modules to run: still waiting for alpha (just started)",
  );
  assert.equal(
    timeoutMessage(undefined, 5),
    "Timed out after 5 s waiting for the deployment's modules to run",
  );
});

test('reported properties without modules, or malformed, are judged without throwing', () => {
  const watch = new DeploymentWatch(0);
  assert.equal(watch.observe({}, T0).outcome, 'running');
  assert.equal(watch.observe({ modules: [1, 2], systemModules: null }, T0).outcome, 'running');
  assert.equal(watch.observe({ modules: { x: 'text' } }, T0).outcome, 'pending');
});
