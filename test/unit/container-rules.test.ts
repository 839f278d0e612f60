import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { containerFailure, defaultNetwork } from '../../src/checks/container/common.js';
import { windowsHostVersionVerdict } from '../../src/checks/container/engine.js';
import { isWithin, mountOf, parseProcMounts } from '../../src/checks/container/host-mounts.js';
import { hostPortsOf } from '../../src/checks/container/host-ports.js';
import { planManagementUri } from '../../src/checks/container/management-uri.js';
import { persistedDirectories, storageDirectory } from '../../src/checks/container/storage.js';
import {
  dockerfile,
  FINGERPRINT_LABEL,
  imageIsCurrent,
  importSpecifiers,
  parseLdd,
  programModules,
  VERSION_LABEL,
} from '../../src/checks/support/diagnostics-image.js';
import { describeEngineFailure, engineSocketPath } from '../../src/runtime/modules/docker/docker-engine.js';
import { StreamDemuxer } from '../../src/checks/support/run-diagnostics.js';

describe('docker engine URI and failures', () => {
  test('engineSocketPath accepts unix everywhere and npipe on Windows only', () => {
    assert.equal(engineSocketPath('unix:///var/run/docker.sock', 'linux'), '/var/run/docker.sock');
    assert.equal(
      engineSocketPath('npipe://./pipe/iotedge_moby_engine', 'win32'),
      '//./pipe/iotedge_moby_engine',
    );
    assert.throws(
      () => engineSocketPath('npipe://./pipe/docker_engine', 'linux'),
      /scheme npipe .* is invalid \(expected unix\)/,
    );
    assert.throws(() => engineSocketPath('tcp://127.0.0.1:2375', 'linux'), /scheme tcp/);
    assert.throws(() => engineSocketPath('not a uri', 'linux'), /not a valid URI/);
  });

  test('describeEngineFailure tells permission denied from not running, keeping the URI', () => {
    const uri = 'unix:///var/run/docker.sock';
    const errno = (code: string) =>
      Object.assign(new Error(`connect ${code} /var/run/docker.sock`), { code });
    const denied = describeEngineFailure(uri, '/var/run/docker.sock', errno('EACCES'));
    assert.equal(denied.reason, 'permission-denied');
    assert.ok(denied.message.includes(uri));
    assert.equal(describeEngineFailure(uri, '/s', errno('ENOENT')).reason, 'not-running');
    assert.equal(describeEngineFailure(uri, '/s', errno('ECONNREFUSED')).reason, 'not-running');
    const wrapped = new Error('outer', { cause: errno('EACCES') });
    assert.equal(describeEngineFailure(uri, '/s', wrapped).reason, 'permission-denied');
    assert.equal(describeEngineFailure(uri, '/s', new Error('(HTTP code 500) server error')).reason, 'other');
  });
});

describe('diagnostics image', () => {
  test('parseLdd lists libraries and the loader, not the vdso', () => {
    const output = [
      '\tlinux-vdso.so.1 (0x00007ffd0c9f2000)',
      '\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f1)',
      '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f2)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007f3)',
      '\tlibmissing.so => not found',
    ].join('\n');
    assert.deepEqual(parseLdd(output), [
      '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
    assert.deepEqual(parseLdd('\tstatically linked\n'), []);
  });

  test('importSpecifiers finds static, re-exported, side-effect and literal dynamic imports', () => {
    const source = [
      "import { request } from 'node:http';",
      'import {\n  a,\n  b,\n} from "./multi.js";',
      "import './side-effect.js';",
      "export { x } from '../re-export.js';",
      "export * from './star.js';",
      "const m = await import('./dynamic.js');",
      "const text = 'not an import';",
    ].join('\n');
    assert.deepEqual(importSpecifiers(source).sort(), [
      '../re-export.js',
      './dynamic.js',
      './multi.js',
      './side-effect.js',
      './star.js',
      'node:http',
    ]);
  });

  test('programModules follows the compiled diagnostics program through its relative imports', async () => {
    const entry = fileURLToPath(new URL('../../src/diagnostics/main.js', import.meta.url));
    const modules = await programModules(entry);
    assert.ok(modules.includes(entry));
    assert.ok(modules.some((file) => file.endsWith('/checks/support/tls-probe.js')));
    assert.ok(!modules.some((file) => file.endsWith('/checks/types.js')), 'only what it imports');
  });

  test('imageIsCurrent: foreign images are used as they are, our builds must match the fingerprint', () => {
    assert.equal(imageIsCurrent(undefined, 'abc'), true);
    assert.equal(imageIsCurrent({ other: 'x' }, 'abc'), true);
    assert.equal(imageIsCurrent({ [VERSION_LABEL]: '1.0', [FINGERPRINT_LABEL]: 'abc' }, 'abc'), true);
    assert.equal(imageIsCurrent({ [VERSION_LABEL]: '1.0', [FINGERPRINT_LABEL]: 'old' }, 'abc'), false);
    assert.equal(imageIsCurrent({ [VERSION_LABEL]: '1.0' }, 'abc'), false);
  });

  test('dockerfile starts from scratch and runs node on the program', () => {
    const text = dockerfile({
      entrypoint: ['/usr/bin/node', '/app/src/diagnostics/main.js'],
      libraryDirs: ['/lib/x86_64-linux-gnu', '/lib64'],
      labels: { [VERSION_LABEL]: '1.2.3' },
    });
    assert.equal(
      text,
      [
        'FROM scratch',
        'COPY rootfs/ /',
        'ENV LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/lib64',
        `LABEL ${VERSION_LABEL}="1.2.3"`,
        'ENTRYPOINT ["/usr/bin/node","/app/src/diagnostics/main.js"]',
        '',
      ].join('\n'),
    );
  });
});

describe('diagnostics runs', () => {
  const frame = (stream: number, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };

  test('StreamDemuxer separates stdout and stderr, across chunk boundaries', () => {
    const all = Buffer.concat([frame(1, 'hello '), frame(2, 'oops\n'), frame(1, 'world\n')]);
    const demuxer = new StreamDemuxer();
    const cuts = [0, 3, 11, 20, all.length];
    for (let i = 1; i < cuts.length; i += 1) demuxer.push(all.subarray(cuts[i - 1], cuts[i]));
    assert.equal(demuxer.text('stdout'), 'hello world\n');
    assert.equal(demuxer.text('stderr'), 'oops\n');
  });

  test('containerFailure puts the last stderr line first, then the exit code', () => {
    assert.deepEqual(containerFailure({ exitCode: 1, stdout: '', stderr: 'warning\nCould not connect\n' }), {
      reason: 'Could not connect',
      causes: ['warning', 'The diagnostics container exited with code 1.'],
    });
    assert.deepEqual(containerFailure({ exitCode: 137, stdout: '', stderr: '' }), {
      reason: 'The diagnostics container exited with code 137.',
      causes: [],
    });
  });

  test('defaultNetwork comes from IOTEDGE_CHECK_DEFAULT_NETWORK when set', () => {
    assert.equal(defaultNetwork({}), undefined);
    assert.equal(defaultNetwork({ IOTEDGE_CHECK_DEFAULT_NETWORK: ' ' }), undefined);
    assert.equal(defaultNetwork({ IOTEDGE_CHECK_DEFAULT_NETWORK: 'host' }), 'host');
  });
});

describe('check rules', () => {
  test('planManagementUri: scheme pairs', () => {
    assert.deepEqual(planManagementUri('http://127.0.0.1:15580', 'http://0.0.0.0:15580'), { kind: 'run' });
    assert.deepEqual(planManagementUri('unix:///var/run/iotedge/mgmt.sock', 'fd://iotedge.mgmt.socket'), {
      kind: 'run',
      socketPath: '/var/run/iotedge/mgmt.sock',
    });
    assert.deepEqual(planManagementUri('unix:///a/mgmt.sock', 'unix:///a/mgmt.sock'), {
      kind: 'run',
      socketPath: '/a/mgmt.sock',
    });
    const mismatch = planManagementUri('unix:///a.sock', 'http://0.0.0.0:1');
    assert.equal(mismatch.kind, 'invalid');
    assert.match(
      mismatch.kind === 'invalid' ? mismatch.message : '',
      /\("unix"\) and listen.management_uri \("http"\)/,
    );
    const same = planManagementUri('fd://x', 'fd://x');
    assert.equal(
      same.kind === 'invalid' && same.message,
      'Could not parse connect.management_uri: scheme fd is invalid',
    );
  });

  test('storageDirectory: StorageFolder in any case, else /tmp', () => {
    assert.equal(storageDirectory(undefined, 'edgeAgent'), '/tmp/edgeAgent');
    assert.equal(
      storageDirectory(['PATH=/bin', 'STORAGEfolder=/iotedge/storage'], 'edgeHub'),
      '/iotedge/storage/edgeHub',
    );
    assert.equal(storageDirectory(['MyStorageFolder=/x'], 'edgeHub'), '/tmp/edgeHub');
  });

  test('persistedDirectories: mount destinations and declared volumes', () => {
    const inspect = {
      Mounts: [{ Destination: '/data' }],
      Config: { Volumes: { '/cache': {} } },
    } as unknown as Parameters<typeof persistedDirectories>[0];
    assert.deepEqual(persistedDirectories(inspect), ['/data', '/cache']);
  });

  test('isWithin compares whole path components', () => {
    assert.equal(isWithin('/tmp/edgeAgent', '/tmp'), true);
    assert.equal(isWithin('/tmp', '/tmp/'), true);
    assert.equal(isWithin('/tmpfoo/edgeAgent', '/tmp'), false);
    assert.equal(isWithin('/anything', '/'), true);
  });

  test('mountOf picks the longest mount point, the later of stacked ones, and decodes escapes', () => {
    const entries = parseProcMounts(
      [
        '/dev/vda / ext4 rw 0 0',
        'tmpfs /run tmpfs rw 0 0',
        'tmpfs /var/lib/edge\\040data tmpfs rw 0 0',
        '/dev/vdb /var/lib/edge\\040data ext4 rw 0 0',
        '',
      ].join('\n'),
    );
    assert.equal(mountOf('/var/lib/iotedge', entries)?.mountPoint, '/');
    assert.equal(mountOf('/run/iotedge', entries)?.fsType, 'tmpfs');
    assert.deepEqual(mountOf('/var/lib/edge data/hub', entries), {
      device: '/dev/vdb',
      mountPoint: '/var/lib/edge data',
      fsType: 'ext4',
    });
  });

  test('hostPortsOf lists distinct host ports of PortBindings', () => {
    assert.deepEqual(hostPortsOf(undefined), []);
    assert.deepEqual(
      hostPortsOf({
        '8883/tcp': [{ HostIp: '', HostPort: '8883' }],
        '443/tcp': [
          { HostIp: '0.0.0.0', HostPort: '443' },
          { HostIp: '::', HostPort: '443' },
        ],
        '5671/tcp': [{ HostIp: '', HostPort: '' }],
      }),
      [8883, 443],
    );
  });

  test('windowsHostVersionVerdict accepts 10.0.17763 only', () => {
    assert.equal(windowsHostVersionVerdict('10.0.17763'), undefined);
    assert.match(windowsHostVersionVerdict('10.0.19041') ?? '', /unsupported OS version 10\.0\.19041/);
  });
});
