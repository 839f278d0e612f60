import assert from 'node:assert/strict';
import { readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';

import { has, npmPack, PLACEHOLDER, sh, sqliteVersion, VERSION } from '../helpers/package-build.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * `npm pack` then `npm i -g` of the tarball, as docs/install.md describes it: the tarball bundles
 * its production dependencies, so the global install into a temporary prefix works offline; the
 * commands run from there, and the systemd unit pointed at that prefix passes systemd's checks.
 */

const tmp = tempDirs('iotedge-ts-npm-');

describe('npm tarball', () => {
  let tgz: string;

  before(async () => {
    tgz = await npmPack(await tmp());
  });

  test('npm i -g of the npm pack tarball works offline and its unit points at the global bin', async () => {
    const prefix = await tmp();
    await sh('npm', ['install', '--global', '--offline', '--ignore-scripts', '--prefix', prefix, tgz]);
    assert.equal((await sh(join(prefix, 'bin/iotedge'), ['version'])).trim(), `iotedge ${VERSION}`);
    assert.equal((await sh(join(prefix, 'bin/iotedged'), ['--version'])).trim(), `iotedged ${VERSION}`);
    assert.match(await sh(join(prefix, 'bin/iotedge'), ['check-list']), /config-yaml-well-formed/);
    const app = join(prefix, 'lib/node_modules/iotedge-ts');
    assert.match(await sqliteVersion(join(app, 'node_modules')), /^3\.\d+/);
    assert.ok(
      (await readFile(join(app, 'contrib/config/config.template.yaml'), 'utf8')).includes(PLACEHOLDER),
    );
    assert.equal(
      await readlink(join(prefix, 'bin/iotedged')),
      '../lib/node_modules/iotedge-ts/bin/iotedged.js',
    );

    // The unit as docs/install.md installs it after `npm i -g`, checked by systemd.
    const unit = (await readFile(join(app, 'contrib/systemd/iotedged.service'), 'utf8')).replace(
      /\/usr\/bin\/iotedged/g,
      join(prefix, 'bin/iotedged'),
    );
    assert.ok(unit.includes(`ExecStart=${join(prefix, 'bin/iotedged')} -c /etc/iotedge/config.yaml`));
    if (has('systemd-analyze')) {
      const dir = await tmp();
      await writeFile(join(dir, 'iotedged.service'), unit);
      await sh('systemd-analyze', ['verify', '--man=no', join(dir, 'iotedged.service')]);
    }
  });
});
