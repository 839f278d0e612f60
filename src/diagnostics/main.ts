/*
 * The program inside the diagnostics image (the counterpart of IotedgeDiagnosticsDotnet): `iotedge check`
 * runs it in a container to see the device from a module's point of view. Exit 0 on success; otherwise a
 * one-line reason on stderr and exit 1 (2 for a usage error). Only node: built-ins and the modules under
 * src/ may be imported, because the image carries nothing else.
 */
import { request } from 'node:http';
import { parseArgs } from 'node:util';

import { probeTls } from '../checks/support/tls-probe.js';
import { readCaFiles } from '../checks/support/trust-store.js';
import { socketTarget } from '../runtime/socket-uri.js';

const PROBE_TIMEOUT_MS = 10_000;
const MANAGEMENT_API_VERSION = '2020-07-07';

class UsageError extends Error {}

const USAGE = [
  'usage: main.js local-time',
  '       main.js iothub --hostname HOST --port PORT [--proxy URL] [--ca-file PEM]...',
  '       main.js edge-agent --management-uri URI',
].join('\n');

function parsePort(value: string | undefined): number {
  const port = Number(value);
  if (value === undefined || !/^\d{1,5}$/.test(value) || port < 1 || port > 65535) {
    throw new UsageError(`--port must be a port number (1-65535), got ${value ?? 'nothing'}`);
  }
  return port;
}

function localTime(): void {
  process.stdout.write(`${Math.floor(Date.now() / 1000)}\n`);
}

async function iothub(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      hostname: { type: 'string' },
      port: { type: 'string' },
      proxy: { type: 'string' },
      'ca-file': { type: 'string', multiple: true },
    },
  });
  if (!values.hostname) throw new UsageError('--hostname is required');
  const host = values.hostname;
  const port = parsePort(values.port);
  const ca = await readCaFiles(values['ca-file'] ?? []);
  try {
    await probeTls({ host, port, ca, proxy: values.proxy, timeoutMs: PROBE_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`Could not connect to ${host}:${port}: ${(error as Error).message}`, { cause: error });
  }
  process.stdout.write(`Connected to ${host}:${port}\n`);
}

function getModules(managementUri: string): Promise<number> {
  let url: URL;
  try {
    url = new URL(managementUri);
  } catch {
    throw new UsageError(`--management-uri ${managementUri} is not a valid URI`);
  }
  const path = `/modules?api-version=${MANAGEMENT_API_VERSION}`;
  const target = socketTarget(url);
  if (target === undefined)
    throw new UsageError(
      `--management-uri: scheme ${url.protocol.slice(0, -1)} is not supported (unix or http)`,
    );

  return new Promise((resolve, reject) => {
    const req = request({ ...target, path, method: 'GET', timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

async function edgeAgent(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'management-uri': { type: 'string' } } });
  const uri = values['management-uri'];
  if (!uri) throw new UsageError('--management-uri is required');
  let status: number;
  try {
    status = await getModules(uri);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new Error(`Could not connect to the management endpoint at ${uri}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (status !== 200) {
    throw new Error(`The management endpoint at ${uri} answered GET /modules with HTTP status ${status}`);
  }
  process.stdout.write(`The management endpoint at ${uri} answered\n`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'local-time':
        localTime();
        return 0;
      case 'iothub':
        await iothub(rest);
        return 0;
      case 'edge-agent':
        await edgeAgent(rest);
        return 0;
      default:
        throw new UsageError(
          command === undefined ? 'a subcommand is required' : `unknown subcommand ${command}`,
        );
    }
  } catch (error) {
    const usage =
      error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
    process.stderr.write(usage ? `${message}\n${USAGE}\n` : `${message}\n`);
    return usage ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
