import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CHECKS, type CheckInfo } from '../../src/checks/catalog.js';
import { renderCheckList } from '../../src/checks/render-check-list.js';
import { renderJson } from '../../src/checks/render-json.js';
import { NO_PAINT, TextReport } from '../../src/checks/render-text.js';
import type { RunRecord } from '../../src/checks/runner.js';
import { failed, fatal, ignored, ok, skipped, warning } from '../../src/checks/types.js';

const golden = (name: string) =>
  readFileSync(new URL(`../../../test/golden/${name}`, import.meta.url), 'utf8');
const info = (id: string): CheckInfo => CHECKS.find((check) => check.id === id)!;

/** A run that exercises every result kind, in catalog order. */
const records: RunRecord[] = [
  { id: 'config-yaml-well-formed', result: ok() },
  {
    id: 'connection-string',
    result: ok({ device_id: 'dev1', iothub_hostname: 'hub.azure-devices.net' }),
  },
  { id: 'container-engine-uri', result: ok({ docker_server_version: '20.10.24' }) },
  { id: 'windows-host-version', result: ignored() },
  {
    id: 'hostname',
    result: warning(
      'config.yaml has hostname my_host which does not comply with RFC 1035.\n' +
        'Consider renaming the device to comply with RFC 1035.',
      ['hostname label "my_host" contains "_"'],
    ),
  },
  { id: 'iotedged-version', result: failed('Could not run /usr/bin/iotedged --version', ['spawn ENOENT']) },
  { id: 'container-engine-dns', result: skipped() },
  {
    id: 'host-connect-iothub-amqp',
    result: ok({ iothub_hostname: 'hub.azure-devices.net', port_number: 5671, proxy: null }),
  },
];

function renderText(verbose: boolean, warningsAsErrors: boolean, rows = records): string {
  let out = '';
  const report = new TextReport({ verbose, warningsAsErrors, paint: NO_PAINT, write: (t) => (out += t) });
  for (const { id, result } of rows) report.add(info(id), result);
  report.finish();
  return out;
}

test('text report matches the 1.1 layout', () => {
  assert.equal(renderText(false, false), golden('check.txt'));
});

test('text report with --verbose shows causes and skipped checks', () => {
  assert.equal(renderText(true, false), golden('check-verbose.txt'));
});

test('--warnings-as-errors prints and counts warnings as errors', () => {
  const text = renderText(false, true);
  assert.match(text, /× config.yaml has correct hostname - Error\n {4}config.yaml has hostname my_host/);
  assert.match(text, /^2 check\(s\) raised errors\./m);
  assert.doesNotMatch(text, /raised warnings/);
});

test('a fatal result is printed as an error and ends the section', () => {
  const text = renderText(false, false, [
    { id: 'config-yaml-well-formed', result: fatal('Permission denied.\nRun as root: sudo iotedge check') },
  ]);
  assert.equal(
    text,
    'Configuration checks\n--------------------\n× config.yaml is well-formed - Error\n' +
      '    Permission denied.\n    Run as root: sudo iotedge check\n\n' +
      '0 check(s) succeeded.\n1 check(s) raised errors. Re-run with --verbose for more details.\n',
  );
});

test('colours wrap whole result lines when painting is on', () => {
  let out = '';
  const paint = {
    green: (t: string) => `<g>${t}</g>`,
    yellow: (t: string) => `<y>${t}</y>`,
    red: (t: string) => `<r>${t}</r>`,
  };
  const report = new TextReport({ verbose: false, warningsAsErrors: false, paint, write: (t) => (out += t) });
  report.add(info('hostname'), ok());
  report.finish();
  assert.match(out, /<g>√ config.yaml has correct hostname - OK<\/g>\n/);
  assert.match(out, /<g>1 check\(s\) succeeded.<\/g>/);
});

test('JSON report matches the 1.1 document shape', () => {
  const now = { now: '2026-11-28T00:00:00.000Z' };
  assert.equal(renderJson(records, now, false), golden('check.json'));
});

test('JSON report keys checks alphabetically and marks promoted warnings as errors', () => {
  const document = JSON.parse(renderJson(records, {}, true));
  const ids = Object.keys(document.checks);
  assert.deepEqual(ids, [...ids].sort());
  assert.equal(document.checks.hostname.result, 'error');
  assert.deepEqual(document.checks['windows-host-version'], { result: 'ignored', additional_info: {} });
});

test('check-list matches the 1.1 table', () => {
  assert.equal(renderCheckList(CHECKS), golden('check-list.txt'));
});
