import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TestDaemon, eventually, manifest } from '../helpers/daemon.js';

interface Details {
  name: string;
  status: { exitStatus?: { statusCode: string }; runtimeStatus: { status: string; description?: string } };
}

const shell = (
  script: string,
  fields: Record<string, unknown> = {},
  settings: Record<string, unknown> = {},
) => ({
  type: 'process',
  status: 'running',
  restartPolicy: 'never',
  settings: { command: '/bin/sh', args: ['-c', script], ...settings },
  ...fields,
});

const IDS = 'echo "uid=$(id -u) gid=$(id -g)"';

describe(
  'process modules run as the user of settings.user',
  { skip: process.getuid?.() !== 0 && 'needs root' },
  () => {
    const daemon = new TestDaemon();

    before(() => daemon.start());
    after(async () => {
      if (process.env.DEBUG_DAEMON) console.log(daemon.output);
      await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
      await daemon.cleanup();
    });

    async function details(name: string): Promise<Details | undefined> {
      const list = await daemon.json<{ modules: Details[] }>('GET', '/modules');
      return list.modules.find((module) => module.name === name);
    }

    const logsOf = async (name: string) => (await daemon.request('GET', `/modules/${name}/logs`)).body;

    test('an unknown user is refused with 400 naming the field; the deployment is not applied', async () => {
      const result = await daemon.request(
        'POST',
        '/deployment',
        manifest({ ghost: shell('sleep 60', {}, { user: 'no-such-user-iotedge' }) }),
      );
      const reported = JSON.parse(result.body) as {
        lastDesiredStatus: { code: number; description: string };
      };
      assert.equal(reported.lastDesiredStatus.code, 400, result.body);
      assert.equal(
        reported.lastDesiredStatus.description,
        'modules.ghost.settings.user: no such user "no-such-user-iotedge"',
      );
      assert.equal(await details('ghost'), undefined);
    });

    test("the program and its health probe run as that user; the daemon's user by default", async () => {
      const result = await daemon.request(
        'POST',
        '/deployment',
        manifest({
          // the wrapper records the pid and the exit code although it runs as nobody
          named: shell(`${IDS}; sleep 0.3; exit 3`, {}, { user: 'nobody' }),
          numeric: shell(
            `${IDS}; sleep 60`,
            {},
            {
              user: '4242:4343',
              healthProbe: {
                command: '/bin/sh',
                args: ['-c', '[ "$(id -u)" = 4242 ]'],
                intervalSecs: 0.2,
                failureThreshold: 1,
              },
            },
          ),
          daemons: shell(`${IDS}; sleep 60`),
        }),
      );
      assert.equal(result.status, 200, result.body);

      const named = await eventually(async () => {
        const found = await details('named');
        return found?.status.runtimeStatus.status === 'failed' ? found : undefined;
      }, 'named to exit');
      assert.equal(named.status.exitStatus?.statusCode, '3', 'the exit code the wrapper recorded');
      assert.match(await logsOf('named'), /uid=65534 gid=65534/);
      await eventually(
        async () => (/uid=4242 gid=4343/.test(await logsOf('numeric')) ? true : undefined),
        'numeric ids',
      );
      await eventually(
        async () => (/uid=0 gid=0/.test(await logsOf('daemons')) ? true : undefined),
        'default ids',
      );

      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(
        (await details('numeric'))?.status.runtimeStatus.status,
        'running',
        'the probe ran as 4242',
      );
    });

    test('module directories are 0750 and logs 0640: other local users read nothing', () => {
      const root = path.join(daemon.homedir, 'modules');
      for (const dir of [
        root,
        path.join(root, 'named'),
        path.join(root, 'named', 'logs'),
        path.join(root, 'named', 'run'),
      ]) {
        assert.equal(statSync(dir).mode & 0o777, 0o750, dir);
      }
      assert.equal(statSync(path.join(root, 'named', 'logs', 'current.log')).mode & 0o777, 0o640);
    });
  },
);
