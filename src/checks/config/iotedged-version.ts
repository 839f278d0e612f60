import { execFile } from 'node:child_process';

import { fetchLatestVersion } from '../support/latest-version.js';
import {
  errorChain,
  failed,
  ok,
  warning,
  type CheckContext,
  type CheckDefinition,
  type CheckResult,
} from '../types.js';

const VERSION_TIMEOUT_MS = 10_000;
const FETCH_TIMEOUT_MS = 10_000;
const UPDATE_HELP = "Please see the README's install section for update instructions.";

/** The version in `iotedged <version>[ (<commit>)]`, or undefined when the output has another shape. */
export function parseIotedgedVersion(output: string): string | undefined {
  return /^iotedged ([^ ]+)( \(.*\))?$/.exec(output.trim())?.[1];
}

interface Expected {
  version: string;
  /** Where the expected version came from: --expected-iotedged-version, the latest-version URL, or this CLI. */
  source: 'flag' | 'latest' | 'cli';
}

type VersionOutput = { stdout: string; stderr: string };

/** Runs `<path> --version`; a `.js` daemon (this project's own, run from a checkout) is run with this Node. */
function runVersion(path: string, signal: AbortSignal): Promise<VersionOutput> {
  const [file, args] = /\.[cm]?js$/.test(path)
    ? [process.execPath, [path, '--version']]
    : [path, ['--version']];
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: VERSION_TIMEOUT_MS, signal, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stdout, stderr }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** Maps a failed `--version` run to the check's result, in the real tool's words. */
function versionRunFailure(path: string, error: unknown): CheckResult {
  const info = { actual_version: null, expected_version: null };
  const failure = error as NodeJS.ErrnoException & { killed?: boolean; stderr?: string };
  if (failure.syscall?.startsWith('spawn')) {
    return failed(
      `Could not spawn iotedged process at ${path}.\n` +
        'Use --iotedged to give the path of the IoT Edge daemon (iotedged) binary.',
      errorChain(error),
      info,
    );
  }
  if (failure.killed) {
    return failed(
      'Could not spawn iotedged process',
      [`${path} --version did not finish within ${VERSION_TIMEOUT_MS / 1000} s`],
      info,
    );
  }
  if (typeof failure.code === 'number') {
    const stderr = (failure.stderr ?? '').trim();
    return failed(
      'Could not spawn iotedged process',
      [`iotedged returned exit code ${failure.code}, stderr = ${stderr}`],
      info,
    );
  }
  return failed('Could not spawn iotedged process', errorChain(error), info);
}

/** The proxy for the version lookup: --proxy-uri, else HTTPS_PROXY for an https URL, as the real tool does. */
function proxyFor(ctx: CheckContext, url: string): string | undefined {
  if (ctx.inputs.proxyUri) return ctx.inputs.proxyUri;
  if (!url.startsWith('https:')) return undefined;
  return ctx.inputs.env.HTTPS_PROXY || ctx.inputs.env.https_proxy || undefined;
}

function mismatchMessage(actual: string, expected: Expected): string {
  if (expected.source === 'cli') {
    return (
      `Installed IoT Edge daemon has version ${actual} but this iotedge CLI has version ${expected.version}.\n` +
      `The daemon and the CLI should come from the same release. ${UPDATE_HELP}`
    );
  }
  return (
    `Installed IoT Edge daemon has version ${actual} but ${expected.version} is the latest stable version available.\n` +
    UPDATE_HELP
  );
}

export const iotedgedVersion: CheckDefinition = {
  id: 'iotedged-version',
  provides: ['iotedgedVersion'],
  run: async (ctx) => {
    const path = ctx.inputs.iotedgedPath;
    let output: VersionOutput;
    try {
      output = await runVersion(path, ctx.signal);
    } catch (error) {
      return versionRunFailure(path, error);
    }
    const actual = parseIotedgedVersion(output.stdout);
    if (actual === undefined) {
      return failed(
        'Could not parse output of iotedged --version',
        [`output ${JSON.stringify(output.stdout)} does not match expected format`],
        { actual_version: null, expected_version: null },
      );
    }
    ctx.provide('iotedgedVersion', actual);

    let expected: Expected;
    const url = ctx.inputs.latestVersionUrl;
    if (ctx.inputs.expectedIotedgedVersion) {
      expected = { version: ctx.inputs.expectedIotedgedVersion, source: 'flag' };
    } else if (url) {
      try {
        const version = await fetchLatestVersion(url, {
          timeoutMs: FETCH_TIMEOUT_MS,
          signal: ctx.signal,
          proxy: proxyFor(ctx, url),
        });
        expected = { version, source: 'latest' };
      } catch (error) {
        return warning(
          `Error while fetching latest versions of edge components: ${(error as Error).message}`,
          errorChain((error as Error).cause),
          { actual_version: actual, expected_version: null },
        );
      }
    } else {
      expected = { version: ctx.inputs.cliVersion, source: 'cli' };
    }

    const info = { actual_version: actual, expected_version: expected.version };
    if (actual !== expected.version) return warning(mismatchMessage(actual, expected), undefined, info);
    return ok(info);
  },
};
