import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

import { renderCliManPage, type ManCommand } from '../../src/packaging/cli-man-page.js';
import { roffLines, roffText } from '../../src/packaging/roff.js';
import { manDate } from '../../src/packaging/write-man-pages.js';
import { loadConfig } from '../../src/runtime/config/load.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('roff escaping', () => {
  test('backslashes and hyphens print as written', () => {
    assert.equal(roffText('a\\b --c'), 'a\\eb \\-\\-c');
  });

  test('a line starting with a control character is protected, a blank line is a paragraph', () => {
    assert.equal(roffLines(".hidden\n'quoted\n\nplain"), "\\&.hidden\n\\&'quoted\n.PP\nplain");
  });
});

describe('iotedge(1)', () => {
  const command = (id: string, extra: Partial<ManCommand> = {}): ManCommand => ({
    id,
    args: {},
    flags: {},
    ...extra,
  });
  const page = (commands: ManCommand[]) =>
    renderCliManPage({
      bin: 'iotedge',
      version: '1.2.3',
      date: '2026-01-02',
      description: 'The iotedge tool is used to manage the IoT Edge runtime.',
      topicSeparator: ' ',
      commands,
    });

  test('every visible command gets a section with its arguments, options and examples', () => {
    const text = page([
      command('identity:add', {
        description: 'Register a device',
        args: { device_id: { name: 'device_id', description: 'The id', required: true } },
        flags: {
          host: {
            name: 'host',
            type: 'option',
            char: 'H',
            description: 'Daemon socket',
            env: 'IOTEDGE_HOST',
            default: 'unix:///var/run/iotedge/mgmt.sock',
            helpValue: '<HOST>',
          },
          edge: { name: 'edge', type: 'boolean', description: 'An edge device' },
          secret: { name: 'secret', type: 'boolean', hidden: true },
        },
        examples: ['<%= config.bin %> identity add dev1'],
      }),
      command('internal', { hidden: true }),
    ]);
    assert.match(text, /^\.TH IOTEDGE 1 "2026\\-01\\-02" "iotedge\\-ts 1\.2\.3" "User Commands"$/m);
    assert.match(text, /^\.SS \\fBiotedge identity add\\fR \[\\fIOPTIONS\\fR\] \\fIDEVICE_ID\\fR$/m);
    assert.match(text, /^\\fB\\-H\\fR, \\fB\\-\\-host\\fR \\fI<HOST>\\fR$/m);
    assert.match(
      text,
      /Daemon socket \(default: unix:\/\/\/var\/run\/iotedge\/mgmt\.sock; environment: IOTEDGE_HOST\)/,
    );
    assert.match(text, /^\\fB\\-\\-edge\\fR$/m);
    assert.match(text, /^iotedge identity add dev1$/m);
    assert.doesNotMatch(text, /secret|internal/);
  });

  test('an option without a help value is shown with its name, or its choices', () => {
    const text = page([
      command('check', {
        flags: {
          output: { name: 'output', type: 'option', char: 'o', options: ['text', 'json'], default: 'text' },
          'config-file': { name: 'config-file', type: 'option' },
        },
      }),
    ]);
    assert.match(text, /\\fB\\-\\-output\\fR \\fItext\|json\\fR/);
    assert.match(text, /\\fB\\-\\-config\\-file\\fR \\fI<CONFIG\\-FILE>\\fR/);
  });
});

describe('man page date', () => {
  test('SOURCE_DATE_EPOCH when set, else today; a bad value is named', () => {
    assert.equal(manDate({ SOURCE_DATE_EPOCH: '1767312000' }), '2026-01-02');
    assert.equal(manDate({}, new Date('2026-03-04T05:06:07Z')), '2026-03-04');
    assert.throws(
      () => manDate({ SOURCE_DATE_EPOCH: 'yesterday' }),
      /SOURCE_DATE_EPOCH: "yesterday" is not a number/,
    );
  });
});

describe('config template', () => {
  test('the packaged config.yaml loads with the IoT Edge 1.1 defaults of a device', async () => {
    const settings = await loadConfig(join(ROOT, 'contrib/config/config.template.yaml'), {});
    assert.equal(settings.homedir, '/var/lib/iotedge');
    assert.equal(settings.connect.management_uri, 'unix:///var/run/iotedge/mgmt.sock');
    assert.equal(settings.listen.workload_uri, 'unix:///var/run/iotedge/workload.sock');
    assert.equal(settings.agent.config.image, 'mcr.microsoft.com/azureiotedge-agent:1.1');
  });
});
