import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, TestDaemon, manifest, nodeModule } from '../helpers/daemon.js';

/**
 * The CLI's conventions through the real binary (bin/run.js) against a real iotedged: `--json` on
 * every data command, JSON errors, did-you-mean, shell completion, no terminal codes in pipes,
 * `deploy --wait` and its exit codes.
 */

const BIN = path.join(ROOT, 'bin/run.js');
/** The start of a terminal escape sequence (ESC [). */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[`);
/** ora's default frames (dots) and its fallback line spinner. */
const SPINNER_FRAMES = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with pipes for stdout and stderr and no NO_COLOR: what a script sees. */
function iotedge(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, CI: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function parseJson(run: Run, what: string): Record<string, unknown> {
  assert.equal(run.code, 0, `${what}: ${run.stderr}`);
  assert.doesNotMatch(run.stdout, ANSI, what);
  assert.ok(run.stdout.endsWith('}\n'), `${what}: one document and a newline`);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

function assertJsonError(run: Run, what: string, code = 1): { message: string; exitCode: number } {
  assert.equal(run.code, code, `${what}: ${run.stderr}`);
  assert.equal(run.stdout, '', `${what}: nothing on stdout`);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: one line on stderr: ${run.stderr}`);
  const body = JSON.parse(lines[0]) as { error: { message: string; exitCode: number } };
  assert.deepEqual(Object.keys(body.error), ['message', 'exitCode']);
  assert.equal(body.error.exitCode, code);
  return body.error;
}

const keys = (value: unknown): string[] => Object.keys(value as object).sort();

describe('the iotedge CLI against iotedged', () => {
  const daemon = new TestDaemon();
  const env = (): NodeJS.ProcessEnv => ({ IOTEDGE_HOST: daemon.host });
  const file = (name: string, document: unknown): string => daemon.writeJson(name, document);

  before(() => daemon.start());
  after(() => daemon.cleanup());

  test('deploy --wait: every module up for the settle period exits 0, with plain progress lines', async () => {
    const run = await iotedge(
      ['deploy', file('up.json', manifest({ alpha: nodeModule('sleeper.js') })), '--wait', '--timeout', '60'],
      env(),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'Deployment accepted: added 2 (alpha, edgeHub)\nModules running: 2 of 2\n');
    assert.match(run.stderr, /^Waiting for modules\n/);
    assert.match(run.stderr, /^Waiting for modules: \d of 2 running; .*\(just started\)/m);
    assert.doesNotMatch(run.stderr + run.stdout, ANSI);
    assert.doesNotMatch(run.stderr, SPINNER_FRAMES);
  });

  test('deploy --wait: a module that exits at once (restartPolicy never) exits 2, named with its exit code', async () => {
    const failing = manifest({
      alpha: nodeModule('sleeper.js'),
      quitter: nodeModule('exiter.js', ['7', '0'], { restartPolicy: 'never' }),
    });
    const run = await iotedge(['deploy', file('failing.json', failing), '--wait', '--timeout', '60'], env());
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stdout, 'Deployment accepted: added 1 (quitter), 2 unchanged\n');
    assert.match(run.stderr, /\nDeployment did not run: quitter \(failed, exit code 7\)\n$/);
    // progress lines before it may name every module; the verdict names only the failed one
    const verdict = run.stderr.trimEnd().split('\n').at(-1) ?? '';
    assert.doesNotMatch(verdict, /alpha/, 'only the failed module is named at the end');

    // --json: stdout is the reported properties (as deploy --json), the failure a JSON line
    const json = await iotedge(['deploy', file('failing.json', failing), '--wait', '--json'], env());
    assert.equal(json.code, 2, json.stderr);
    const reported = JSON.parse(json.stdout) as { modules: Record<string, { runtimeStatus: string }> };
    assert.equal(reported.modules.quitter.runtimeStatus, 'failed');
    const error = JSON.parse(json.stderr) as { error: { message: string; exitCode: number } };
    assert.deepEqual(error, {
      error: { message: 'Deployment did not run: quitter (failed, exit code 7)', exitCode: 2 },
    });
  });

  test('deploy --wait: the time running out exits 3 and names the modules still waited for', async () => {
    const run = await iotedge(
      ['deploy', file('slow.json', manifest({ beta: nodeModule('sleeper.js') })), '--wait', '--timeout', '1'],
      env(),
    );
    assert.equal(run.code, 3, run.stderr);
    assert.match(
      run.stderr,
      /Timed out after 1 s waiting for the deployment's modules to run: still waiting for beta \(just started\)\n$/,
    );
    const misuse = await iotedge(['deploy', '--status', '--wait'], env());
    assert.equal(misuse.code, 1);
    assert.match(misuse.stderr, /--wait/);
  });

  test('--json on every data command prints its documented shape, and nothing else on stdout', async () => {
    assert.deepEqual(keys(parseJson(await iotedge(['version', '--json']), 'version')), ['name', 'version']);
    const checks = parseJson(await iotedge(['check-list', '--json']), 'check-list').checks as object[];
    assert.ok(checks.length > 10);
    assert.deepEqual(keys(checks[0]), ['aliases', 'category', 'description', 'id']);

    const list = parseJson(await iotedge(['list', '--json'], env()), 'list');
    assert.deepEqual(keys(list), ['modules']);
    const names = (list.modules as { name: string }[]).map((module) => module.name);
    assert.ok(names.includes('edgeAgent') && names.includes('beta'), names.join(','));
    // the oclif path (an extra global flag keeps it off the fast lane) prints the same document
    const slow = parseJson(await iotedge(['list', '--json', '-H', daemon.host]), 'list via oclif');
    assert.deepEqual(keys(slow), ['modules']);

    const status = parseJson(await iotedge(['system', 'status', '--json'], env()), 'system status');
    assert.ok(
      ['daemon', 'modules'].every((key) => key in status),
      keys(status).join(','),
    );
    assert.deepEqual(keys(status.daemon), ['host', 'running', 'uptimeSeconds', 'version']);

    const added = parseJson(await iotedge(['identity', 'add', 'leaf-json', '--json'], env()), 'identity add');
    assert.equal(added.deviceId, 'leaf-json');
    assert.match(String(added.connectionString), /DeviceId=leaf-json;/);
    const devices = parseJson(await iotedge(['identity', 'list', '--json'], env()), 'identity list');
    assert.deepEqual(keys(devices), ['devices']);
    assert.doesNotMatch(JSON.stringify(devices), /Key/, 'identity list never shows keys');
    const removed = parseJson(
      await iotedge(['identity', 'remove', 'leaf-json', '--json'], env()),
      'identity remove',
    );
    assert.deepEqual(removed, { deviceId: 'leaf-json', removed: true });

    const restarted = await iotedge(['restart', 'beta', 'nosuch', '--json'], env());
    assert.equal(restarted.code, 1, 'a module that could not be restarted fails the command');
    assert.deepEqual(JSON.parse(restarted.stdout), {
      restarted: ['beta'],
      failed: [{ module: 'nosuch', error: 'Module not found: nosuch' }],
    });
    assert.equal(restarted.stderr, '');

    const deployStatus = parseJson(await iotedge(['deploy', '--status', '--json'], env()), 'deploy --status');
    assert.ok('lastDesiredStatus' in deployStatus && 'modules' in deployStatus);
    const deployed = parseJson(
      await iotedge(
        ['deploy', file('json.json', manifest({ beta: nodeModule('sleeper.js') })), '--json'],
        env(),
      ),
      'deploy',
    );
    assert.deepEqual(keys(deployed), keys(deployStatus), 'deploy --json and deploy --status: one shape');
  });

  test('with --json a failure is one JSON line on stderr, for daemon errors and usage errors alike', async () => {
    assertJsonError(await iotedge(['invoke', 'nosuch', 'm', '--json'], env()), 'invoke');
    assertJsonError(await iotedge(['send', 'nobody', 'hi', '--json', '--timeout', '1'], env()), 'send');
    const unreachable = assertJsonError(
      await iotedge(['list', '--json'], { IOTEDGE_HOST: `unix://${daemon.dir}/nothing.sock` }),
      'list, daemon down',
    );
    assert.match(unreachable.message, /^Could not connect to the IoT Edge daemon/);
    const usage = assertJsonError(await iotedge(['system', 'status', '--json', '--bogus'], env()), 'usage');
    assert.match(usage.message, /Nonexistent flag: --bogus/);
  });

  test('in a pipe no command writes terminal codes or spinner frames', async () => {
    for (const args of [
      ['list'],
      ['system', 'status'],
      ['check-list'],
      ['identity', 'list'],
      ['deploy', '--status'],
    ]) {
      const run = await iotedge(args, env());
      assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
      assert.doesNotMatch(run.stdout + run.stderr, ANSI, args.join(' '));
      assert.doesNotMatch(run.stdout + run.stderr, SPINNER_FRAMES, args.join(' '));
    }
  });

  test(
    'on a terminal deploy --wait shows a spinner; with --json it does not',
    { skip: !existsSync('/usr/bin/script') && 'needs script(1) for a pseudo-terminal' },
    () => {
      const deployment = file('tty.json', manifest({ gamma: nodeModule('sleeper.js') }));
      const onTerminal = (args: string[]): string => {
        const command = [process.execPath, BIN, ...args].map((word) => `'${word}'`).join(' ');
        const run = spawnSync('script', ['-qec', `stty cols 100 rows 30; ${command}`, '/dev/null'], {
          encoding: 'utf8',
          env: {
            ...process.env,
            IOTEDGE_HOST: daemon.host,
            TERM: 'xterm',
            CI: undefined,
            NO_COLOR: undefined,
          },
          timeout: 60_000,
        });
        assert.equal(run.status, 0, (run.stdout + run.stderr).slice(-2000));
        return run.stdout;
      };
      const shown = onTerminal(['deploy', deployment, '--wait']);
      assert.match(shown, SPINNER_FRAMES);
      assert.match(shown, /Waiting for modules/);
      assert.match(shown, /Modules running: 2 of 2/);
      const quiet = onTerminal(['deploy', deployment, '--wait', '--json']);
      assert.doesNotMatch(quiet, SPINNER_FRAMES);
      assert.doesNotMatch(quiet, /Waiting for modules/);
    },
  );
});

describe('the iotedge CLI without a daemon', () => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'iotedge-cli-polish-cache-'));
  after(() => rmSync(cache, { recursive: true, force: true }));

  test('a mistyped command names the closest one and exits 127', async () => {
    const run = await iotedge(['lsit']);
    assert.equal(run.code, 127);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      "lsit is not an iotedge command. Did you mean list?\nRun 'iotedge help' for a list of available commands.\n",
    );
    const topic = await iotedge(['identity', 'lsit']);
    assert.equal(topic.code, 127);
    assert.match(topic.stderr, /^identity lsit is not an iotedge command\. Did you mean identity list\?\n/);
    assert.match(topic.stderr, /Run 'iotedge help identity'/);
    const far = await iotedge(['xyzzyq']);
    assert.equal(far.code, 127);
    assert.doesNotMatch(far.stderr, /Did you mean/);
  });

  test('a known command given an argument it does not take names the argument, not a missing command', async () => {
    for (const args of [
      ['version', 'extra'],
      ['hub', 'status', 'extra'],
      ['identity', 'list', 'extra'],
    ]) {
      const run = await iotedge(args, { IOTEDGE_HOST: 'unix:///nowhere/mgmt.sock' });
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /Unexpected argument: extra/, args.join(' '));
      assert.doesNotMatch(run.stderr, /not an iotedge command|not found|\n\s+at /, args.join(' '));
    }
    const json = assertJsonError(await iotedge(['check-list', 'a', 'b', '--json']), 'check-list a b --json');
    assert.match(json.message, /^Unexpected arguments: a, b/);
  });

  test('an empty module name or device id is named before the daemon is asked', async () => {
    const nowhere = { IOTEDGE_HOST: 'unix:///nowhere/mgmt.sock' };
    for (const [args, message] of [
      [['restart', ''], 'The module name is empty'],
      [['logs', ''], 'The module name is empty'],
      [['identity', 'remove', ''], 'The device id is empty'],
      [['send', '', 'hi'], 'The device id is empty'],
    ] as const) {
      const run = await iotedge([...args], nowhere);
      assert.equal(run.code, 1, args.join(' '));
      assert.equal(run.stderr, `${message}\n`, args.join(' '));
    }
  });

  test('autocomplete bash prints the setup and writes a completion script bash can load and use', async () => {
    const xdg = { XDG_CACHE_HOME: cache, HOME: cache };
    const setup = await iotedge(['autocomplete', 'bash'], xdg);
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, /iotedge autocomplete script bash/);
    const script = await iotedge(['autocomplete', 'script', 'bash'], xdg);
    assert.equal(script.code, 0, script.stderr);
    const setupPath = /IOTEDGE_AC_BASH_SETUP_PATH=(\S+)/.exec(script.stdout)?.[1] ?? '';
    assert.ok(setupPath.startsWith(cache), script.stdout);
    assert.ok(existsSync(setupPath), setupPath);
    assert.match(readFileSync(setupPath, 'utf8'), /iotedge\.bash/);
    // complete `iotedge identity l` and `iotedge deploy --wa` the way bash would
    const complete = (line: string): string => {
      const words = line.split(' ');
      const program = [
        `source ${JSON.stringify(setupPath)}`,
        `COMP_WORDS=(${words.map((word) => JSON.stringify(word)).join(' ')})`,
        `COMP_CWORD=${words.length - 1}`,
        `COMP_LINE=${JSON.stringify(line)}`,
        `COMP_POINT=${line.length}`,
        'func=$(complete -p iotedge | sed -E "s/.* -F ([^ ]+).*/\\1/")',
        '"$func" iotedge',
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join('\n');
      const run = spawnSync('bash', ['-c', program], { encoding: 'utf8', env: { ...process.env, ...xdg } });
      assert.equal(run.status, 0, run.stderr);
      return run.stdout;
    };
    assert.match(complete('iotedge identity l'), /^list$/m);
    assert.match(complete('iotedge deploy --wa'), /--wait/);
  });

  test('with --json, errors before any output are one JSON line on stderr: monitor and reprovision too', async () => {
    const nowhere = { IOTEDGE_HOST: 'unix:///nowhere/mgmt.sock' };
    for (const command of [['monitor'], ['system', 'reprovision'], ['list'], ['hub', 'status']]) {
      const what = command.join(' ');
      const down = assertJsonError(await iotedge([...command, '--json'], nowhere), `${what}, daemon down`);
      assert.match(
        down.message,
        /^Could not connect to the IoT Edge daemon at unix:\/\/\/nowhere\/mgmt\.sock/,
      );
      const bogus = assertJsonError(
        await iotedge([...command, '--json', '--bogus'], nowhere),
        `${what} --bogus`,
      );
      assert.match(bogus.message, /Nonexistent flag: --bogus/);
      const noHost = assertJsonError(await iotedge([...command, '--json', '-H']), `${what} -H`);
      assert.equal(noHost.message, "The argument '--host <HOST>' requires a value but none was supplied");
      const badHost = assertJsonError(
        await iotedge([...command, '--json', '-H', 'localhost:1']),
        `${what} -H bad`,
      );
      assert.match(badHost.message, /^Invalid value for --host parameter/);
    }
    for (const [flags, message] of [
      [['--count', '0'], /--count/],
      [['--count', 'many'], /--count/],
      [['--timeout', '-1'], /--timeout/],
      [['--input', 'filter'], /^--input: expected MODULE\/INPUT/],
      [['--module', ''], /^--module: expected a module id without/],
      [['--device', 'a/b'], /^--device: expected a device id without/],
    ] as const) {
      const run = await iotedge(['monitor', '--json', ...flags], nowhere);
      assert.match(assertJsonError(run, `monitor ${flags.join(' ')}`).message, message);
    }
  });

  test('a wrong -H or --since names the forms it takes', async () => {
    const host = await iotedge(['list', '-H', 'localhost:15580']);
    assert.equal(host.code, 1);
    assert.match(
      host.stderr,
      /^Invalid value for --host parameter: .*Use unix:\/\/\/path\/to\/mgmt\.sock \(a unix socket\) or http:\/\/HOST:PORT\.\n$/,
    );
    const since = await iotedge(['logs', 'edgeHub', '--since', 'yesterday', '-H', 'unix:///nowhere.sock']);
    assert.equal(since.code, 1);
    assert.equal(
      since.stderr,
      "Invalid value for --since parameter: 'yesterday'. Use an RFC 3339 time (2026-01-31T18:00:00Z), unix seconds (1769882400) or a duration meaning that long ago (90s, 15m, 2h, 1 day, 1h 30m).\n",
    );
  });
});
