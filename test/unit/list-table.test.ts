import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describeStatus,
  fitConfigColumn,
  listStatus,
  moduleConfig,
  renderModuleList,
  tabwrite,
} from '../../src/cli/list-table.js';
import type { ModuleDetails } from '../../src/runtime/daemon/management-types.js';
import type { RuntimeStatus } from '../../src/runtime/modules/types.js';

const now = new Date('2024-06-01T12:00:00Z');
const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();

function module(
  name: string,
  status: RuntimeStatus,
  options: {
    type?: string;
    settings?: Record<string, unknown>;
    start?: number;
    exit?: [number, string];
    description?: string;
  } = {},
): ModuleDetails {
  return {
    id: 'id',
    name,
    type: options.type ?? 'docker',
    config: {
      settings: options.settings ?? { image: `example.azurecr.io/${name.toLowerCase()}:1.0` },
      env: [],
    },
    status: {
      ...(options.start !== undefined ? { startTime: ago(options.start) } : {}),
      ...(options.exit
        ? { exitStatus: { exitTime: ago(options.exit[0]), statusCode: options.exit[1] } }
        : {}),
      runtimeStatus: { status, ...(options.description ? { description: options.description } : {}) },
    },
  };
}

test('the table is the 1.1 golden text: sorted by byte order, columns max(15, widest) + 2, 1.1 STATUS words', () => {
  const modules = [
    module('tempSensor', 'failed', { exit: [60, '137'] }),
    module('edgeHub', 'stopped', { exit: [2 * 86_400, '0'] }),
    module('edgeAgent', 'running', {
      start: 180,
      settings: { image: 'mcr.microsoft.com/azureiotedge-agent:1.1' },
    }),
    module('aVeryLongModuleName', 'backoff', { exit: [15, '1'] }),
    module('worker', 'running', {
      type: 'process',
      start: 3600,
      settings: { command: 'node', args: ['app.js', '--name', "it's a b"] },
    }),
    module('Zeta', 'unknown'),
    module('probe', 'unhealthy', { start: 5, type: 'process', settings: { command: '/usr/bin/probe' } }),
    module('deadOne', 'dead'),
  ];
  const expected = [
    'NAME                 STATUS           DESCRIPTION                          CONFIG',
    'Zeta                 unknown          Unknown                              example.azurecr.io/zeta:1.0',
    'aVeryLongModuleName  failed           Failed (1) 15 seconds ago - backoff  example.azurecr.io/averylongmodulename:1.0',
    'deadOne              dead             Stopped                              example.azurecr.io/deadone:1.0',
    'edgeAgent            running          Up 3 minutes                         mcr.microsoft.com/azureiotedge-agent:1.1',
    'edgeHub              stopped          Stopped 2 days ago                   example.azurecr.io/edgehub:1.0',
    'probe                running          Up 5 seconds - unhealthy             /usr/bin/probe',
    'tempSensor           failed           Failed (137) a minute ago            example.azurecr.io/tempsensor:1.0',
    "worker               running          Up an hour                           node app.js --name 'it'\\''s a b'",
    '',
  ].join('\n');
  assert.equal(renderModuleList(modules, now), expected);
});

test('short cells are padded to the minimum width of 15 plus 2', () => {
  const text = renderModuleList([module('m', 'running', { type: 'process', settings: {} })], now);
  assert.equal(
    text,
    `NAME${' '.repeat(13)}STATUS${' '.repeat(11)}DESCRIPTION${' '.repeat(6)}CONFIG\nm${' '.repeat(16)}running${' '.repeat(10)}Up${' '.repeat(15)}\n`,
  );
});

test('no modules prints the header only', () => {
  assert.equal(renderModuleList([], now), 'NAME             STATUS           DESCRIPTION      CONFIG\n');
});

test('descriptions per status, with and without times', () => {
  assert.equal(describeStatus(module('m', 'running'), now), 'Up');
  assert.equal(describeStatus(module('m', 'running', { start: 0 }), now), 'Up 0 seconds');
  assert.equal(describeStatus(module('m', 'unhealthy'), now), 'Up - unhealthy');
  assert.equal(describeStatus(module('m', 'stopped'), now), 'Stopped');
  assert.equal(describeStatus(module('m', 'stopped', { exit: [1, '0'] }), now), 'Stopped 1 second ago');
  assert.equal(describeStatus(module('m', 'dead', { exit: [7200, '0'] }), now), 'Stopped 2 hours ago');
  assert.equal(describeStatus(module('m', 'failed'), now), 'Failed');
  assert.equal(
    describeStatus(module('m', 'failed', { exit: [86_400 * 400, '2'] }), now),
    'Failed (2) a year ago',
  );
  assert.equal(describeStatus(module('m', 'backoff'), now), 'Failed - backoff');
  assert.equal(describeStatus(module('m', 'unknown', { start: 5 }), now), 'Unknown');
  const garbled = module('m', 'running');
  garbled.status.startTime = 'not a time';
  assert.equal(describeStatus(garbled, now), 'Up');
});

test('STATUS uses only the words of 1.1: running, stopped, failed, dead, unknown', () => {
  const cases: [RuntimeStatus, [number, string] | undefined, string][] = [
    ['running', undefined, 'running'],
    ['unhealthy', undefined, 'running'],
    ['backoff', [5, '1'], 'failed'],
    ['backoff', undefined, 'failed'],
    ['backoff', [5, '0'], 'stopped'],
    ['stopped', [5, '0'], 'stopped'],
    ['failed', [5, '2'], 'failed'],
    ['dead', undefined, 'dead'],
    ['unknown', undefined, 'unknown'],
    ['paused' as RuntimeStatus, undefined, 'unknown'],
  ];
  for (const [status, exit, expected] of cases) {
    assert.equal(listStatus(module('m', status, { exit })), expected, `${status} ${exit?.[1] ?? ''}`);
  }
});

test("DESCRIPTION adds the richer state and the daemon's reason after 1.1's text", () => {
  const crashLoop = module('m', 'backoff', { exit: [4, '127'], description: 'spawn nope ENOENT' });
  assert.equal(describeStatus(crashLoop, now), 'Failed (127) 4 seconds ago - backoff: spawn nope ENOENT');
  const portInUse = module('edgeHub', 'failed', {
    description: 'listen EADDRINUSE: address already in use 0.0.0.0:8883',
  });
  assert.equal(
    describeStatus(portInUse, now),
    'Failed - listen EADDRINUSE: address already in use 0.0.0.0:8883',
  );
  const probe = module('m', 'unhealthy', { start: 60, description: 'health probe: HTTP 503' });
  assert.equal(describeStatus(probe, now), 'Up a minute - unhealthy: health probe: HTTP 503');
  const pulling = module('m', 'unknown', { description: 'pulling image busybox:1' });
  assert.equal(describeStatus(pulling, now), 'Unknown - pulling image busybox:1');
  // a description that only restates the status or the exit code adds nothing
  assert.equal(
    describeStatus(module('m', 'running', { start: 60, description: 'running' }), now),
    'Up a minute',
  );
  assert.equal(
    describeStatus(module('m', 'failed', { exit: [60, '3'], description: 'exited with code 3' }), now),
    'Failed (3) a minute ago',
  );
  assert.equal(describeStatus(module('m', 'stopped', { description: '  ' }), now), 'Stopped');
});

test('CONFIG is the image of docker modules and the command line of process modules', () => {
  assert.equal(moduleConfig(module('m', 'running', { settings: { image: 'img:1' } })), 'img:1');
  assert.equal(moduleConfig(module('m', 'running', { settings: {} })), '');
  assert.equal(
    moduleConfig(module('m', 'running', { type: 'process', settings: { command: 'python3' } })),
    'python3',
  );
  assert.equal(
    moduleConfig(
      module('m', 'running', { type: 'process', settings: { command: '/opt/my app/run', args: ['-v', ''] } }),
    ),
    "'/opt/my app/run' -v ''",
  );
  assert.equal(moduleConfig(module('m', 'running', { type: 'other', settings: { image: 'img:1' } })), '');
});

test('tabwrite: elastic columns over adjacent lines, last cell unpadded, tabs and newlines flattened', () => {
  assert.equal(
    tabwrite(
      [
        ['a', 'b'],
        ['ccc', 'd'],
      ],
      2,
      1,
    ),
    'a   b\nccc d\n',
  );
  // Column 0 spans all lines; column 1 is interrupted by the second line (where it is the last cell).
  assert.equal(
    tabwrite(
      [
        ['a', 'bb', 'x'],
        ['a', 'b'],
        ['c', 'dddd', 'y'],
      ],
      1,
      1,
    ),
    'a bb x\na b\nc dddd y\n',
  );
  assert.equal(
    tabwrite(
      [
        ['a', 'bb', 'x'],
        ['a', 'b', 'y'],
        ['longer', 'z'],
      ],
      1,
      1,
    ),
    'a      bb x\na      b  y\nlonger z\n',
  );
  assert.equal(tabwrite([['a\tb', 'c\nd']], 0, 1), 'a b c d\n');
});

test('on a terminal a CONFIG value that would wrap is cut to the width with …; other columns stay whole', () => {
  const modules = [
    module('worker', 'running', {
      type: 'process',
      start: 60,
      settings: {
        command: '/usr/bin/node',
        args: ['/opt/modules/worker/index.js', '--verbose', '--name', 'w1'],
      },
    }),
    module('edgeAgent', 'running', { start: 60, settings: { image: 'agent:1' } }),
  ];
  const table = renderModuleList(modules, now);
  const fitted = fitConfigColumn(table, 80).split('\n');
  assert.equal(fitted[0], table.split('\n')[0]);
  assert.equal(fitted[1], table.split('\n')[1], 'a short line is left alone');
  assert.equal([...fitted[2]].length, 80);
  assert.match(fitted[2], /^worker +running +Up a minute +\/usr\/bin\/node \/opt\/.*…$/);
  assert.equal(fitted.at(-1), '', 'the table still ends with a newline');
  // too narrow to show a useful part of CONFIG: unchanged rather than cut into the other columns
  assert.equal(fitConfigColumn(table, 60), table);
});
