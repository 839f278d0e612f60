import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { CountingLog, type LogLossEvent } from '../../src/runtime/modules/process/log-losses.js';
import { LogWriter } from '../../src/runtime/modules/process/log-writer.js';
import type { LogLine } from '../../src/runtime/modules/types.js';
import { SmallTmpfs } from '../helpers/small-tmpfs.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const at = (second: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, second));
const line = (second: number, text = `line ${second}`): LogLine => ({
  time: at(second),
  stream: 'stdout',
  text,
});

test('module logs are 0640 in a 0750 directory, also when the file was made readable by all before', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'iotedge-log-modes-'));
  dirs.push(parent);
  const dir = join(parent, 'logs');
  const writer = await LogWriter.open({ dir, maxBytes: 1000, files: 2 });
  await writer.append([line(1)]);
  await writer.close();
  assert.equal((await stat(dir)).mode & 0o777, 0o750);
  assert.equal((await stat(join(dir, 'current.log'))).mode & 0o777, 0o640);
});

test('lines the log refuses are counted; the next write says how many were lost and why', async () => {
  let failing = true;
  const written: LogLine[] = [];
  const events: LogLossEvent[] = [];
  const log = new CountingLog(
    {
      append: async (lines) => {
        if (failing)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
            code: 'ENOSPC',
            errno: -28,
          });
        written.push(...lines);
      },
    },
    (event) => events.push(event),
  );
  await log.append([line(1), line(2)]);
  await log.append([line(3)]);
  assert.equal(log.lost, 3);
  assert.deepEqual(events, [{ kind: 'failing', reason: 'ENOSPC (no space left on device)' }], 'told once');
  failing = false;
  await log.append([line(4)]);
  assert.deepEqual(
    written.map((stored) => `${stored.stream} ${stored.text}`),
    [
      "stderr iotedged: 3 line(s) of this module's output were lost before this one (ENOSPC (no space left on device))",
      'stdout line 4',
    ],
  );
  assert.equal(written[0]!.time.getTime(), at(4).getTime());
  assert.deepEqual(events.at(-1), { kind: 'recovered', lost: 3, reason: 'ENOSPC (no space left on device)' });
  await log.append([line(5)]);
  assert.equal(written.length, 3, 'no second note');
});

test('on a full disk no part of a line stays in the file, and writing resumes once there is space', async (t) => {
  const mounted = SmallTmpfs.mount(256);
  if ('skip' in mounted) return t.skip(mounted.skip);
  try {
    const dir = join(mounted.dir, 'logs');
    const writer = await LogWriter.open({ dir, maxBytes: 1024 * 1024, files: 2 });
    const log = new CountingLog(writer);
    await log.append([line(1)]);
    mounted.fill();
    // more than the slack of the file's last page: a part is written before the disk refuses
    const many = Array.from({ length: 400 }, (_, index) => line(2, `filler ${index} ${'x'.repeat(40)}`));
    await log.append(many);
    assert.equal(log.lost, 400);
    assert.equal(await readFile(join(dir, 'current.log'), 'utf8'), '2030-01-01T00:00:01.000Z O line 1\n');

    mounted.free();
    await log.append([line(3)]);
    await writer.close();
    assert.deepEqual((await readFile(join(dir, 'current.log'), 'utf8')).split('\n'), [
      '2030-01-01T00:00:01.000Z O line 1',
      "2030-01-01T00:00:03.000Z E iotedged: 400 line(s) of this module's output were lost before this one (ENOSPC (no space left on device))",
      '2030-01-01T00:00:03.000Z O line 3',
      '',
    ]);
  } finally {
    mounted.unmount();
  }
});
