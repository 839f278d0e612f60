import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestDaemon, eventually, manifest, nodeModule } from '../helpers/daemon.js';

/** `iotedge deploy` and `iotedge list` against a real iotedged running process modules. */

const sleepers = () => ({ alpha: nodeModule('sleeper.js'), beta: nodeModule('sleeper.js') });

describe('iotedge deploy against iotedged', () => {
  const daemon = new TestDaemon();
  const file = (name: string, document: unknown): string => daemon.writeJson(name, document);

  before(() => daemon.start());
  after(() => daemon.cleanup());

  test('a deployment prints one line naming what it changes; --json the reported properties', () => {
    const first = daemon.cli(['deploy', file('first.json', manifest(sleepers()))]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'Deployment accepted: added 3 (alpha, beta, edgeHub)\n');
    assert.equal(first.stderr, '');

    const changed = manifest({
      alpha: nodeModule('sleeper.js', ['100']),
      gamma: nodeModule('sleeper.js'),
    });
    const second = daemon.cli(['deploy', file('second.json', changed), '--json']);
    assert.equal(second.code, 0, second.stderr);
    const reported = JSON.parse(second.stdout) as { lastDesiredStatus: { code: number }; modules: object };
    assert.equal(reported.lastDesiredStatus.code, 200);
    assert.deepEqual(Object.keys(reported.modules).sort(), ['alpha', 'gamma']);

    const again = daemon.cli(['deploy', file('again.json', changed)]);
    assert.equal(again.stdout, 'Deployment accepted: no changes, 3 unchanged\n');
  });

  test('a refused deployment says which field is wrong, as the agent knows it', () => {
    const bad = manifest({ ticker: nodeModule('sleeper.js', [], { restartPolicy: 'sometimes' }) });
    const run = daemon.cli(['deploy', file('bad.json', bad)]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      /^Deployment failed \(400\): modules\.ticker\.restartPolicy: unknown value "sometimes"/,
    );
    assert.doesNotMatch(run.stderr, /Bad Request/);
  });

  test('a crash-looping module reads failed in list, with backoff and the exit in DESCRIPTION', async () => {
    const crashing = manifest({ crasher: nodeModule('exiter.js', ['7', '10']) });
    const deployed = daemon.cli(['deploy', file('crashing.json', crashing)]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(
      deployed.stdout,
      /^Deployment accepted: added 1 \(crasher\), removed 2 \(alpha, gamma\), 1 unchanged\n$/,
    );
    const row = await eventually(async () => {
      const list = daemon.cli(['list']);
      return /^crasher +failed +Failed \(7\) .* - backoff/m.exec(list.stdout)?.[0];
    }, 'crasher in backoff');
    assert.match(row, /^crasher +failed /);
    // list --json keeps the daemon's own status
    await eventually(async () => {
      const json = JSON.parse(daemon.cli(['list', '--json']).stdout) as {
        modules: { name: string; status: { runtimeStatus: { status: string } } }[];
      };
      const crasher = json.modules.find((module) => module.name === 'crasher');
      return crasher?.status.runtimeStatus.status === 'backoff' ? true : undefined;
    }, 'crasher backoff in list --json');
  });
});

describe('iotedge deploy with a local config source', () => {
  const source = manifest({ local: nodeModule('sleeper.js') });
  const sourceDir = mkdtempSync(path.join(os.tmpdir(), 'iotedge-local-source-'));
  const sourceFile = path.join(sourceDir, 'deployment.json');
  writeFileSync(sourceFile, JSON.stringify(source));
  const daemon = new TestDaemon({ ConfigSource: 'local', LocalConfigPath: sourceFile });

  before(() => daemon.start());
  after(async () => {
    await daemon.cleanup();
    rmSync(sourceDir, { recursive: true, force: true });
  });

  test('warns that the local file will replace a deployment made with iotedge deploy', () => {
    const other = path.join(daemon.dir, 'other.json');
    writeFileSync(other, JSON.stringify(manifest({ other: nodeModule('sleeper.js') })));
    const run = daemon.cli(['deploy', other]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(
      run.stderr,
      `Warning: config.yaml sets agent.env.ConfigSource to local: the deployment in ${sourceFile} ` +
        'will replace this one at the next SIGHUP or restart of iotedged\n',
    );
    assert.match(run.stdout, /^Deployment accepted: added 1 \(other\), removed 1 \(local\), 1 unchanged\n$/);
  });

  test('deploying what the local file holds needs no warning', () => {
    const same = path.join(daemon.dir, 'same.json');
    writeFileSync(same, JSON.stringify(source, null, 2));
    const run = daemon.cli(['deploy', same]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
  });
});
