import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { eventually, manifest } from '../helpers/daemon.js';
import { dockerDaemonFixture, dockerDaemonSkip, shellModule } from '../helpers/docker-daemon.js';
import { cli, readZip } from '../helpers/support-bundle.js';

/** A support bundle of a daemon running a Docker module: docker inspect data, redacted. */

const TOKEN = 'docker-env-token-5521-abcdef';

describe('support-bundle with a Docker module', { skip: dockerDaemonSkip }, () => {
  const { daemon, image, name } = dockerDaemonFixture('bundle', 'bundled');

  /** Deploys the module whose environment holds TOKEN and waits until it logged. */
  const deployTokenModule = async () => {
    const result = await daemon.request(
      'POST',
      '/deployment',
      manifest({
        [name]: shellModule(image, 'echo token is $API_TOKEN; echo ready; sleep 1000', {
          env: { API_TOKEN: { value: TOKEN } },
        }),
      }),
    );
    assert.equal(result.status, 200, result.body);
    await eventually(
      async () => (daemon.cli(['logs', name]).stdout.includes('ready') ? true : undefined),
      'the container to log',
    );
  };

  test('inspect/<module>.json holds docker inspect, its env secret redacted; the log is there', async () => {
    await deployTokenModule();
    assert.match(
      daemon.cli(['logs', name]).stdout,
      new RegExp(`token is ${TOKEN}`),
      'the secret is there to leak',
    );

    const run = await cli(
      ['support-bundle', '-o', 'bundle.zip', '-q', '-c', daemon.configFile],
      daemon.host,
      daemon.dir,
    );
    assert.equal(run.code, 0, run.stderr);
    const entries = await readZip(readFileSync(path.join(daemon.dir, 'bundle.zip')));
    const inspect = JSON.parse(entries.get(`inspect/${name}.json`) ?? '{}');
    assert.equal(inspect.container?.Name, `/${name}`, entries.get('errors.txt'));
    assert.ok(inspect.container.Config.Env.includes('API_TOKEN=***'));
    assert.ok(inspect.container.Config.Env.includes(`IOTEDGE_MODULEID=${name}`));
    assert.match(entries.get(`logs/${name}_log.txt`)!, /token is \*\*\*\n(.*\n)?.*ready/);
    for (const [entry, text] of entries) assert.ok(!text.includes(TOKEN), `${entry} holds the token`);
  });

  // Last: it kills the daemon.
  test('with the daemon gone, the module containers are inspected straight from the engine', async () => {
    await deployTokenModule();
    // killed (as a crash would): its containers keep running, its socket stays without a listener
    await daemon.signal('SIGKILL');
    const run = await cli(
      ['support-bundle', '-o', 'alone.zip', '-q', '-c', daemon.configFile],
      daemon.host,
      daemon.dir,
    );
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Could not connect to the IoT Edge daemon at /);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    const entries = await readZip(readFileSync(path.join(daemon.dir, 'alone.zip')));
    const inspect = JSON.parse(entries.get(`inspect/${name}.json`) ?? '{}');
    assert.equal(inspect.container?.Name, `/${name}`, entries.get('errors.txt'));
    assert.equal(inspect.container.State.Running, true);
    assert.ok(inspect.container.Config.Env.includes('API_TOKEN=***'));
    assert.equal(inspect.module, undefined, 'no management view without the daemon');
    assert.ok(!entries.has(`logs/${name}_log.txt`), 'module logs come from the daemon only');
    assert.doesNotMatch(entries.get('errors.txt') ?? '', /inspect/);
    for (const [entry, text] of entries) assert.ok(!text.includes(TOKEN), `${entry} holds the token`);
  });
});
