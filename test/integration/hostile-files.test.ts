import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { ROOT } from '../helpers/daemon.js';

const CONNECTION_STRING = 'HostName=hub.example.net;DeviceId=edge-1;SharedAccessKey=c2VjcmV0a2V5MTIzNDU2Nzg=';

/** Runs a program of this package; fails (instead of hanging) when it takes longer than `ms`. */
function run(args: string[], ms = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not exit within ${ms} ms:\n${stdout}${stderr}`));
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('config.yaml and the files it names, when they are not what they should be', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iotedge-hostile-files-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const config = (name: string, extra: string[]) => {
    const file = path.join(dir, name);
    writeFileSync(
      file,
      [
        'provisioning:',
        '  source: manual',
        `  device_connection_string: "${CONNECTION_STRING}"`,
        'hostname: edge',
        `connect:`,
        `  management_uri: unix://${dir}/mgmt.sock`,
        `  workload_uri: unix://${dir}/workload.sock`,
        `listen:`,
        `  management_uri: unix://${dir}/mgmt.sock`,
        `  workload_uri: unix://${dir}/workload.sock`,
        ...extra,
      ].join('\n') + '\n',
    );
    return file;
  };
  const iotedged = (file: string) => run([path.join(ROOT, 'bin/iotedged.js'), '-c', file]);
  const noStackTrace = (text: string) => assert.doesNotMatch(text, /\n\s+at |TypeError/, text);

  test("the template's connection string placeholder: refused by name before anything is created, exit 1", async () => {
    const file = config('placeholder.yaml', []).replace(/\.yaml$/, '-template.yaml');
    const placeholder = '<ADD DEVICE CONNECTION STRING HERE>';
    writeFileSync(
      file,
      [
        'provisioning:',
        '  source: manual',
        `  device_connection_string: "${placeholder}"`,
        `homedir: ${dir}/placeholder-home`,
        'connect:',
        `  management_uri: unix://${dir}/placeholder-mgmt.sock`,
        `  workload_uri: unix://${dir}/placeholder-workload.sock`,
        'listen:',
        `  management_uri: unix://${dir}/placeholder-mgmt.sock`,
        `  workload_uri: unix://${dir}/placeholder-workload.sock`,
      ].join('\n') + '\n',
    );
    const result = await iotedged(file);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`^iotedged: ${file}: provisioning.device_connection_string is still ${placeholder}`),
    );
    noStackTrace(result.stderr);
    assert.ok(!existsSync(`${dir}/placeholder-mgmt.sock`), 'no management socket');
    assert.ok(!existsSync(`${dir}/placeholder-home`), 'no homedir');
  });

  test('a homedir that cannot be created: one line naming it and the OS error, exit 1', async () => {
    const file = config('uncreatable.yaml', ['homedir: /dev/null/home']);
    const result = await iotedged(file);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `iotedged: ${file}: homedir /dev/null/home cannot be created: ENOTDIR (not a directory)\n`,
    );
    noStackTrace(result.stderr);
  });

  test('several YAML documents: a YAML error naming the file, not a TypeError', async () => {
    const file = config('multi.yaml', [`homedir: ${dir}/home`, '---', 'hostname: other']);
    const result = await iotedged(file);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `iotedged: ${file}: YAML error: expected a single document in the stream, but found more\n`,
    );
  });

  test('a FIFO as config.yaml: iotedged and iotedge check say so and exit', async () => {
    const fifo = path.join(dir, 'fifo.yaml');
    spawnSync('mkfifo', [fifo]);
    try {
      const daemon = await iotedged(fifo);
      assert.equal(daemon.code, 1);
      assert.equal(
        daemon.stderr,
        `iotedged: Could not open file ${fifo}: is a FIFO (named pipe), not a regular file\n`,
      );
      const check = await run([path.join(ROOT, 'bin/run.js'), 'check', '-c', fifo, '--verbose'], 60_000);
      assert.equal(check.code, 1);
      assert.match(check.stdout, new RegExp(`Could not open file ${fifo}`));
      assert.match(check.stdout, /is a FIFO \(named pipe\), not a regular file/);
    } finally {
      // whatever still waits to open the FIFO is released
      closeSync(openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK));
    }
  });

  test('/dev/zero as the device CA certificate: refused by name, without reading it', async () => {
    const file = config('zero.yaml', [
      `homedir: ${dir}/zero-home`,
      'certificates:',
      '  device_ca_cert: /dev/zero',
      '  device_ca_pk: /dev/zero',
      '  trusted_ca_certs: /dev/zero',
    ]);
    const result = await iotedged(file);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /certificates\.device_ca_cert: \/dev\/zero: is a character device, not a regular file/,
    );
    noStackTrace(result.stderr);
  });
});
