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

  test('inspect/<module>.json holds docker inspect, its env secret redacted; the log is there', async () => {
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
});
