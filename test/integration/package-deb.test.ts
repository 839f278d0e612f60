import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { before, describe, test } from 'node:test';

import { commands } from '../../src/commands/index.js';
import { has, npmPack, PLACEHOLDER, REPO, sh, sqliteVersion, VERSION } from '../helpers/package-build.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/**
 * The Debian package as a device gets it: built by contrib/debian/build-deb.sh from an `npm pack`
 * tarball, read with dpkg-deb, then installed, upgraded, removed and purged in a temporary root
 * with dpkg (maintainer scripts run outside a chroot, with DPKG_ROOT set); the installed commands
 * are run from that root.
 */

const missing = ['dpkg-deb', 'dpkg', 'strip'].filter((tool) => !has(tool));
const skip = missing.length > 0 ? `${missing.join(', ')} missing (apt-get install dpkg-dev binutils)` : false;
const tmp = tempDirs('iotedge-ts-deb-');

/** A root with an empty dpkg database, for `dpkg --root`. */
async function emptyRoot(): Promise<string> {
  const root = await tmp();
  await mkdir(join(root, 'var/lib/dpkg/info'), { recursive: true });
  await mkdir(join(root, 'var/lib/dpkg/updates'), { recursive: true });
  await writeFile(join(root, 'var/lib/dpkg/status'), '');
  return root;
}

const dpkgIn = (root: string, ...args: string[]) =>
  sh('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--log=/dev/null', ...args]);

describe('Debian package', { skip }, () => {
  let deb: string;
  let arch: string;

  before(async () => {
    const out = await tmp();
    const tgz = await npmPack(out);
    arch = (await sh('dpkg', ['--print-architecture'])).trim();
    const script = join(REPO, 'contrib/debian/build-deb.sh');
    deb = (await sh(script, ['--skip-build', '--compress', 'none', '--tgz', tgz, '--out', out])).trim();
  });

  test('the .deb is named by version and architecture and declares its dependencies and conffile', async () => {
    assert.equal(deb.endsWith(`/iotedge-ts_${VERSION}_${arch}.deb`), true, deb);
    const field = async (name: string) => (await sh('dpkg-deb', ['-f', deb, name])).trim();
    assert.equal(await field('Package'), 'iotedge-ts');
    assert.equal(await field('Version'), VERSION);
    assert.equal(await field('Architecture'), arch);
    assert.match(await field('Depends'), /(^|, )nodejs \(>= 20\)(,|$)/);
    const conffiles = await sh('sh', [
      '-c',
      `dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./conffiles`,
      'sh',
      deb,
    ]);
    assert.equal(conffiles, '/etc/iotedge/config.yaml\n');
  });

  test('the .deb holds the app, the commands, the unit, the config and the man pages, and no build leftovers', async () => {
    const listing = await sh('dpkg-deb', ['-c', deb]);
    const lines = listing.split('\n').filter(Boolean);
    const entry = (path: string) =>
      lines.find((line) => line.endsWith(` ./${path}`) || line.includes(` ./${path} -> `));
    for (const path of [
      'usr/lib/iotedge-ts/bin/run.js',
      'usr/lib/iotedge-ts/bin/iotedged.js',
      'usr/lib/iotedge-ts/dist/src/runtime/daemon/main.js',
      'usr/lib/iotedge-ts/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      'usr/lib/systemd/system/iotedged.service',
      'usr/share/man/man1/iotedge.1.gz',
      'usr/share/man/man8/iotedged.8.gz',
      'usr/share/doc/iotedge-ts/copyright',
    ]) {
      assert.ok(entry(path), `${path} is in the package`);
    }
    assert.match(entry('usr/bin/iotedge') ?? '', /-> \.\.\/lib\/iotedge-ts\/bin\/run\.js$/);
    assert.match(entry('usr/bin/iotedged') ?? '', /-> \.\.\/lib\/iotedge-ts\/bin\/iotedged\.js$/);
    assert.match(
      entry('etc/iotedge/config.yaml') ?? '',
      /^-rw------- root\/root /,
      'config.yaml is root-only',
    );
    assert.ok(
      lines.every((line) => / root\/root /.test(line)),
      'every file belongs to root',
    );
    const leftovers = lines.filter((line) =>
      /\/obj\.target\/|\.o$|\.a$|\/dist\/test\/|\/deps\/sqlite3\/|\/\.npmignore$|\/prebuilds\/(?!linux-)[^/]/.test(
        line,
      ),
    );
    assert.deepEqual(leftovers, []);
    // the demo's modules need the device SDK, a development dependency: they stay in the repository
    assert.deepEqual(
      lines.filter((line) => /\/dist\/src\/demo\//.test(line)),
      [],
    );
  });

  test('iotedge(1) lists every command and iotedged(8) every option of iotedged --help', async () => {
    const root = await tmp();
    await sh('dpkg-deb', ['-x', deb, root]);
    const cli = gunzipSync(await readFile(join(root, 'usr/share/man/man1/iotedge.1.gz'))).toString();
    for (const id of Object.keys(commands)) {
      const shown = `\\fBiotedge ${id.split(':').join(' ').replace(/-/g, '\\-')}\\fR`;
      assert.ok(cli.includes(`.SS ${shown}`), `iotedge(1) has a section for ${id}`);
    }
    const daemon = gunzipSync(await readFile(join(root, 'usr/share/man/man8/iotedged.8.gz'))).toString();
    assert.doesNotMatch(daemon, /@VERSION@|@DATE@/);
    assert.match(daemon, new RegExp(`iotedge\\\\-ts ${VERSION.replace(/\./g, '\\.')}`));
    const help = await sh(process.execPath, [join(REPO, 'bin/iotedged.js'), '--help']);
    for (const option of help.match(/--[a-z-]+/g) ?? []) {
      assert.ok(daemon.includes(`\\fB${option.replace(/-/g, '\\-')}\\fR`), `iotedged(8) documents ${option}`);
    }
    if (has('man')) {
      for (const page of ['usr/share/man/man1/iotedge.1.gz', 'usr/share/man/man8/iotedged.8.gz']) {
        const result = spawnSync('man', ['--warnings', '-l', join(root, page)], {
          env: { ...process.env, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' },
          encoding: 'utf8',
        });
        assert.equal(result.status, 0, result.stderr);
        assert.equal(result.stderr, '', `${page} renders without warnings`);
      }
    }
  });

  test('installed with dpkg: the commands run, the config is a kept conffile, purge removes the state', async () => {
    const root = await emptyRoot();
    const installed = await dpkgIn(root, '-i', deb);
    assert.match(installed, /not configured yet/);
    const iotedge = join(root, 'usr/bin/iotedge');
    assert.equal((await sh(iotedge, ['version'])).trim(), `iotedge ${VERSION}`);
    assert.equal((await sh(join(root, 'usr/bin/iotedged'), ['--version'])).trim(), `iotedged ${VERSION}`);
    assert.match(await sh(iotedge, ['check-list']), /config-yaml-well-formed/);
    assert.match(await sqliteVersion(join(root, 'usr/lib/iotedge-ts/node_modules')), /^3\.\d+/);
    assert.equal(
      (await stat(join(root, 'var/lib/iotedge'))).isDirectory(),
      true,
      'postinst made the homedir',
    );
    const config = join(root, 'etc/iotedge/config.yaml');
    assert.equal((await stat(config)).mode & 0o777, 0o600);
    assert.ok((await readFile(config, 'utf8')).includes(PLACEHOLDER));

    // An upgrade (the same version again) keeps the edited configuration and the state.
    const edited = (await readFile(config, 'utf8')).replace(
      PLACEHOLDER,
      'HostName=h;DeviceId=d;SharedAccessKey=a2V5',
    );
    await writeFile(config, edited);
    await writeFile(join(root, 'var/lib/iotedge/state'), 'kept');
    const upgraded = await dpkgIn(root, '--force-confold', '-i', deb);
    assert.doesNotMatch(upgraded, /not configured yet/);
    assert.equal(await readFile(config, 'utf8'), edited);
    assert.equal(await readFile(join(root, 'var/lib/iotedge/state'), 'utf8'), 'kept');

    // Removal keeps configuration and state; purge removes both.
    await dpkgIn(root, '--remove', 'iotedge-ts');
    await assert.rejects(stat(iotedge));
    assert.equal(await readFile(config, 'utf8'), edited);
    await dpkgIn(root, '--purge', 'iotedge-ts');
    await assert.rejects(stat(join(root, 'etc/iotedge')));
    await assert.rejects(stat(join(root, 'var/lib/iotedge')));
  });
});
